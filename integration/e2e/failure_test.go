package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A task token revoked from outside: tmplrun derives a new one, rewrites
// the token file and fires the vault block's change_mode once — the
// process restarts with the new VAULT_TOKEN — while no secret is
// re-fetched into a needless restart.
func TestRevokedTokenIsReplacedAndRestartsOnce(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/config", map[string]any{"greeting": "one"})
	cfg := s.config(t, fast+s.taskBlock(nil, greetingTemplate("")))
	p := tmplrun(t, s.env(), "run", cfg)
	eventually(t, "the process to start", func() bool { return count(records(s.out), "start") == 1 })
	first, _ := lastStart(records(s.out))
	old := first.Env["VAULT_TOKEN"]

	s.v.RevokeToken(old)
	eventually(t, "a restart with a new token", func() bool { return count(records(s.out), "start") == 2 })
	second, _ := lastStart(records(s.out))
	fresh := second.Env["VAULT_TOKEN"]
	if fresh == "" || fresh == old {
		t.Fatalf("the restarted process has VAULT_TOKEN %q, want a new token", fresh)
	}
	if got := readFile(t, filepath.Join(s.taskDir(), "secrets/vault_token")); got != fresh {
		t.Error("the token file does not hold the new token")
	}
	if _, ok := s.v.LookupToken(fresh); !ok {
		t.Error("the new token is not valid")
	}
	p.logHas(t, "replaced by a new one")
	// The vault block's change_mode acting is a change event, as
	// docs/cli.md says (there is no separate token-changed event).
	p.logHas(t, "vault token replaced; restarting (change_mode=restart)")
	time.Sleep(3 * time.Second) // a second restart would show up by now
	if n := count(records(s.out), "start"); n != 2 {
		t.Errorf("%d starts, want 2: one restart for one new token", n)
	}
}

// first_render_timeout fails the task, naming what it waits for; with
// every task failed, tmplrun exits 1.
func TestFirstRenderTimeoutFailsWithTheMissingSecret(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	cfg := s.config(t, `
template_config {
  first_render_timeout = "2s"
}
`+s.taskBlock(nil, `
  template {
    data        = "{{ with secret \"secret/data/web/never\" }}{{ .Data.data.x }}{{ end }}"
    destination = "local/app.conf"
  }
`))
	p := tmplrun(t, s.env(), "run", cfg)
	if code := p.wait(t); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	log := p.stderr.String()
	if !strings.Contains(log, "task stopped for good") || !strings.Contains(log, "vault.read(secret/data/web/never)") {
		t.Errorf("the failure does not name the missing secret:\n%s", log)
	}
	if len(records(s.out)) != 0 {
		t.Error("the process started without its first render")
	}
}

// A change script with fail_on_error that fails stops the task with the
// reason; the process gets its kill_signal.
func TestFailingScriptStopsTheTask(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/config", map[string]any{"greeting": "one"})
	cfg := s.config(t, fast+s.taskBlock(nil, greetingTemplate(`    change_mode = "script"
    splay       = "0s"
    change_script {
      command       = "/bin/sh"
      args          = ["-c", "exit 7"]
      fail_on_error = true
    }`)))
	p := tmplrun(t, s.env(), "run", cfg)
	eventually(t, "the process to start", func() bool { return count(records(s.out), "start") == 1 })
	s.v.WriteKV("web/config", map[string]any{"greeting": "two"})
	if code := p.wait(t); code != 1 {
		t.Errorf("exit %d, want 1 (the only task failed)", code)
	}
	if !strings.Contains(p.stderr.String(), "task stopped for good") {
		t.Errorf("no reason given:\n%s", p.stderr.String())
	}
	rs := records(s.out)
	if rs[len(rs)-1].Event != "exit" {
		t.Errorf("the process was not stopped with its kill_signal: %v", rs)
	}
}

// A process that exits on its own is started again, and the exit is
// reported with its code.
func TestExitedProcessIsRestarted(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	cfg := s.config(t, `
task "web" {
  command = "/bin/sh"
  args    = ["-c", "echo started >> `+s.out+`; exit 3"]
  template {
    data        = "x"
    destination = "local/x"
  }
}
`)
	p := tmplrun(t, s.env(), "run", cfg)
	p.logHas(t, "exited on its own with exit code 3")
	eventually(t, "a second start", func() bool {
		b, _ := os.ReadFile(s.out)
		return strings.Count(string(b), "started") >= 2
	})
}
