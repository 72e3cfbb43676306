package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// One run seen through everything a user looks at — JSON logs at debug
// level, /v1/status, /metrics — with a process that ignores SIGTERM (it is
// SIGKILLed after kill_timeout, at a restart and at tmplrun's stop) and a
// task without a command beside it. SIGINT stops tmplrun with exit 0 and
// revokes the task token. No secret appears anywhere.
func TestJSONLogsStatusMetricsAndStop(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/config", map[string]any{"greeting": "json-secret-one"})
	cfg := s.config(t, fast+fmt.Sprintf(`
task "web" {
  command      = %q
  args         = ["-ignore-term"]
  env          = { TESTTASK_OUT = %q }
  kill_timeout = "1s"
  vault {
    policies = ["web"]
  }
%s
}

task "files" {
  vault {
    policies = ["web"]
  }
  template {
    data        = "{{ with secret \"secret/data/web/config\" }}{{ .Data.data.greeting }}{{ end }}"
    destination = "local/copy.conf"
    change_mode = "restart"
  }
}
`, testtaskBin, s.out, greetingTemplate(`    splay       = "0s"`)))
	p := tmplrun(t, s.env(), "run", "-log-format", "json", "-log-level", "debug", "-http-addr", "127.0.0.1:0", cfg)
	base := statusURL(t, p)
	eventually(t, "the process to start", func() bool { return count(records(s.out), "start") == 1 })
	first, _ := lastStart(records(s.out))
	token := first.Env["VAULT_TOKEN"]
	if token == "" {
		t.Fatal("the process has no VAULT_TOKEN")
	}
	for _, d := range []string{"alloc", "local", "secrets", "tmp"} {
		if fi, err := os.Stat(filepath.Join(s.taskDir(), d)); err != nil || !fi.IsDir() {
			t.Errorf("task dir lacks %s/: %v", d, err)
		}
	}
	if dir := first.Env["NOMAD_ALLOC_DIR"]; dir != filepath.Join(s.taskDir(), "alloc") {
		t.Errorf("NOMAD_ALLOC_DIR = %q", dir)
	}

	// The task without a command renders, re-renders and says so.
	copyConf := filepath.Join(s.dir, "files", "local/copy.conf")
	eventually(t, "the command-less task's file", func() bool {
		b, _ := os.ReadFile(copyConf)
		return string(b) == "json-secret-one"
	})
	eventually(t, "the command-less task to be rendered", func() bool {
		st := getStatus(t, base)
		return len(st.Tasks) == 2 && st.Tasks[1].State == "rendered" && st.Tasks[1].PID == 0
	})

	// A change restarts the process; it ignores SIGTERM and is killed
	// after kill_timeout.
	s.v.WriteKV("web/config", map[string]any{"greeting": "json-secret-two"})
	eventually(t, "the restart", func() bool { return count(records(s.out), "start") == 2 })
	p.logHas(t, "stopped by signal SIGKILL — it ignored its kill_signal and was killed after kill_timeout")
	if rs := records(s.out); count(rs, "signal") != 1 || count(rs, "exit") != 0 {
		t.Errorf("the old process should have got SIGTERM, ignored it and been killed: %v", rs)
	}
	eventually(t, "the command-less task to re-render", func() bool {
		b, _ := os.ReadFile(copyConf)
		return string(b) == "json-secret-two"
	})

	// Status: tmplrun's own token (the root token: it never expires) per
	// cluster, each task's token; none of them in the answer.
	st := getStatus(t, base)
	if len(st.Clusters) != 1 {
		t.Fatalf("clusters = %+v, want tmplrun's own token on cluster default", st.Clusters)
	}
	own := st.Clusters[0]
	if own.Cluster != "default" || own.State != "healthy" || !own.NeverExpires || own.TTLSeconds != 0 ||
		!slices.Equal(own.Policies, []string{"root"}) || own.Generation != 1 {
		t.Errorf("tmplrun's own token = %+v, want the root token, healthy, never expiring", own)
	}
	tok := st.Tasks[0].Token
	if tok == nil || tok.State != "healthy" || tok.NeverExpires || tok.TTLSeconds <= 0 ||
		!slices.Equal(tok.Policies, []string{"default", "web"}) || tok.Next != "renew" {
		t.Errorf("task token = %+v, want healthy, policies default and web, a renewal planned", tok)
	}
	raw := get(t, base+"/v1/status")
	metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`tmplrun_own_token_ttl_seconds{cluster="default"} +Inf`,
		`tmplrun_token_ttl_seconds{task="web"}`,
		`tmplrun_process_restarts_total{reason="change",task="web"} 1`,
		`tmplrun_task_running{task="files"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// SIGINT: exit 0, the process killed after kill_timeout once more,
	// the task tokens revoked.
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Errorf("exit code after SIGINT = %d, want 0", code)
	}
	if n := strings.Count(p.stderr.String(), "was killed after kill_timeout"); n != 2 {
		t.Errorf("%d kills after kill_timeout, want 2 (the restart and the stop)", n)
	}
	if _, ok := s.v.LookupToken(token); ok {
		t.Error("the task token is still valid after SIGINT")
	}
	if _, err := os.Stat(filepath.Join(s.taskDir(), "secrets/vault_token")); !os.IsNotExist(err) {
		t.Errorf("the token file is still there: %v", err)
	}

	// Every line is JSON with time, level and message; task events name
	// their task and event, template events their template.
	var sawChange, sawTokenEvent bool
	for i, line := range strings.Split(strings.TrimRight(p.stderr.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("line %d is not JSON: %q", i+1, line)
			continue
		}
		for _, k := range []string{"time", "level", "message"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %q: %s", i+1, k, line)
			}
		}
		switch m["event"] {
		case "change", "rendered":
			if m["task"] != "web" && m["task"] != "files" || m["template"] == nil {
				t.Errorf("line %d: a template event without its task or template: %s", i+1, line)
			}
			sawChange = sawChange || m["event"] == "change"
		case "token obtained", "token revoked":
			if m["task"] == "web" {
				sawTokenEvent = true
			}
		}
	}
	if !sawChange || !sawTokenEvent {
		t.Errorf("the log lacks a change event (%v) or a token event of task web (%v)", sawChange, sawTokenEvent)
	}
	output := p.stderr.String() + p.stdout.String()
	for name, secret := range map[string]string{
		"a KV value": "json-secret-one", "the new KV value": "json-secret-two",
		"the task token": token, "the root token": s.v.RootToken,
	} {
		if strings.Contains(output, secret) {
			t.Errorf("%s appears in tmplrun's output", name)
		}
		if strings.Contains(raw, secret) || strings.Contains(metrics, secret) {
			t.Errorf("%s appears in /v1/status or /metrics", name)
		}
	}
}

// Vault is down when tmplrun starts: the task waits for its token and
// /v1/status says why; once Vault is back the reason is gone and the task
// runs.
func TestStartWithVaultDown(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/config", map[string]any{"greeting": "hello"})
	cfg := s.config(t, fast+s.taskBlock(nil, greetingTemplate("")))
	s.v.Down()
	p := tmplrun(t, s.env(), "run", "-http-addr", "127.0.0.1:0", cfg)
	base := statusURL(t, p)
	eventually(t, "status to say why the task waits", func() bool {
		st := getStatus(t, base)
		return len(st.Tasks) == 1 && st.Tasks[0].State == "starting" &&
			strings.Contains(st.Tasks[0].LastError, "vault unreachable")
	})
	if rs := records(s.out); len(rs) != 0 {
		t.Fatalf("the process started without a token: %v", rs)
	}
	s.v.Up()
	eventually(t, "the task to run", func() bool { return count(records(s.out), "start") == 1 })
	eventually(t, "the reason to be cleared", func() bool {
		st := getStatus(t, base)
		return st.Tasks[0].State == "running" && st.Tasks[0].LastError == ""
	})
}

// A login Vault refuses is not waited out: the tasks that need it fail at
// once with Vault's reason in the log and in /v1/status — without the
// token — and the other tasks keep running.
func TestRefusedLoginFailsItsTasksWithTheReason(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	cfg := s.config(t, s.taskBlock(nil, greetingTemplate(""))+`
task "plain" {
  template {
    data        = "plain"
    destination = "local/plain.txt"
  }
}
`)
	const bogus = "hvs.bogus-token-e2e"
	p := tmplrun(t, []string{"VAULT_TOKEN=" + bogus}, "run", "-http-addr", "127.0.0.1:0", cfg)
	base := statusURL(t, p)
	eventually(t, "the task to fail with Vault's reason", func() bool {
		st := getStatus(t, base)
		return len(st.Tasks) == 2 && st.Tasks[0].State == "failed" &&
			strings.Contains(st.Tasks[0].LastError, "permission denied") && st.Tasks[1].State == "rendered"
	})
	p.logHas(t, "task stopped for good: vault: ")
	if strings.Contains(p.stderr.String(), "task web: task web") {
		t.Errorf("the task is named twice in its reason:\n%s", p.stderr.String())
	}
	if raw := get(t, base+"/v1/status"); strings.Contains(raw, bogus) || strings.Contains(p.stderr.String(), bogus) {
		t.Error("the refused token appears in the status or the log")
	}
	if rs := records(s.out); len(rs) != 0 {
		t.Errorf("the process started without a token: %v", rs)
	}
}
