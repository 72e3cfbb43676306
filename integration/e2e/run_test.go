package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// fast makes KV v2 changes arrive within a second or two and acts on them
// at once (no quiescence, no splay).
const fast = `
template_config {
  vault_default_lease_duration = "1s"
  wait {
    min = "0s"
    max = "0s"
  }
}
`

func TestFirstRenderGatesStartEnvTokenAndStop(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/config", map[string]any{"greeting": "hello-e2e"})
	cfg := s.config(t, fast+s.taskBlock(
		[]string{"-read", "local/app.conf"},
		`
  template {
    data        = <<EOT
greeting={{ with secret "secret/data/web/config" }}{{ .Data.data.greeting }}{{ end }}
own={{ env "TMPLRUN_OWN_SECRET" }}
token={{ env "VAULT_TOKEN" }}
dir={{ env "NOMAD_TASK_DIR" }}
EOT
    destination = "local/app.conf"
  }
  template {
    data        = "DB_PASS={{ with secret \"secret/data/web/db\" }}{{ .Data.data.password }}{{ end }}\n"
    destination = "secrets/app.env"
    env         = true
  }
`))
	p := tmplrun(t, append(s.env(), "TMPLRUN_OWN_SECRET=tmplruns-own-value"), "run", cfg)

	// The db secret does not exist yet: tmplrun says what it waits for
	// and the process does not start.
	p.logHas(t, "vault.read(secret/data/web/db)")
	if rs := records(s.out); len(rs) != 0 {
		t.Fatalf("the process started before its first render: %v", rs)
	}
	s.v.WriteKV("web/db", map[string]any{"password": "hunter2-e2e"})
	eventually(t, "the process to start", func() bool { return count(records(s.out), "start") == 1 })

	start, _ := lastStart(records(s.out))
	conf := start.Files["local/app.conf"]
	if !strings.Contains(conf, "greeting=hello-e2e\n") || !strings.Contains(conf, "own=\n") || !strings.Contains(conf, "token=\n") {
		t.Errorf("rendered file = %q: want the greeting, and no trace of tmplrun's own environment or token", conf)
	}
	if want := "dir=" + filepath.Join(s.taskDir(), "local"); !strings.Contains(conf, want) {
		t.Errorf("rendered file = %q, want %q", conf, want)
	}
	env := start.Env
	if env["DB_PASS"] != "hunter2-e2e" {
		t.Errorf("env template did not reach the process: DB_PASS=%q", env["DB_PASS"])
	}
	if _, ok := env["TMPLRUN_OWN_SECRET"]; ok {
		t.Error("tmplrun's own environment leaked into the process")
	}
	token := env["VAULT_TOKEN"]
	if token == "" || token == s.v.RootToken {
		t.Fatalf("process VAULT_TOKEN = %q: want the task's own token", token)
	}
	info, ok := s.v.LookupToken(token)
	if !ok {
		t.Fatal("the task token is not valid")
	}
	if want := []string{"default", "web"}; !slices.Equal(info.Policies, want) {
		t.Errorf("task token policies = %v, want exactly %v", info.Policies, want)
	}
	tokenFile := filepath.Join(s.taskDir(), "secrets", "vault_token")
	if got := readFile(t, tokenFile); got != token {
		t.Error("secrets/vault_token does not hold the task's token")
	}
	if fi, err := os.Stat(tokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(filepath.Join(s.taskDir(), "secrets")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("secrets dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}

	if code := p.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	rs := records(s.out)
	if rs[len(rs)-1].Event != "exit" || count(rs, "signal") != 1 {
		t.Errorf("the process was not stopped with its kill_signal: %v", rs)
	}
	if _, ok := s.v.LookupToken(token); ok {
		t.Error("the task token is still valid after tmplrun stopped")
	}
	for _, secret := range []string{"hello-e2e", "hunter2-e2e", token} {
		if strings.Contains(p.stderr.String(), secret) || strings.Contains(p.stdout.String(), secret) {
			t.Errorf("a secret value appears in tmplrun's output: %q", secret)
		}
	}
}

func TestChangeModes(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	for _, name := range []string{"restart", "signal", "script", "noop"} {
		s.v.WriteKV("web/"+name, map[string]any{"v": "1"})
	}
	tmpl := func(mode, extra string) string {
		return `
  template {
    data        = "{{ with secret \"secret/data/web/` + mode + `\" }}{{ .Data.data.v }}{{ end }}"
    destination = "local/` + mode + `.txt"
    change_mode = "` + mode + `"
    splay       = "0s"
` + extra + `
  }
`
	}
	scriptOut := filepath.Join(s.dir, "script.out")
	cfg := s.config(t, fast+s.taskBlock(nil,
		tmpl("restart", "")+
			tmpl("signal", `    change_signal = "SIGUSR1"`)+
			tmpl("script", `    change_script {
      command = "/bin/sh"
      args    = ["-c", "printf '%s %s\n' \"$PWD\" \"$(cat local/script.txt)\" >> `+scriptOut+`"]
    }`)+
			tmpl("noop", "")))
	p := tmplrun(t, s.env(), "run", cfg)
	eventually(t, "the process to start", func() bool { return count(records(s.out), "start") == 1 })
	first, _ := lastStart(records(s.out))

	t.Run("signal", func(t *testing.T) {
		s.v.WriteKV("web/signal", map[string]any{"v": "2"})
		eventually(t, "SIGUSR1", func() bool {
			rs := records(s.out)
			return count(rs, "signal") == 1 && rs[len(rs)-1].Signal == "user defined signal 1"
		})
		if n := count(records(s.out), "start"); n != 1 {
			t.Errorf("%d starts, want 1 (a signal does not restart)", n)
		}
	})
	t.Run("script", func(t *testing.T) {
		s.v.WriteKV("web/script", map[string]any{"v": "2"})
		eventually(t, "the script to run", func() bool {
			b, _ := os.ReadFile(scriptOut)
			return string(b) == s.taskDir()+" 2\n"
		})
		if n := count(records(s.out), "start"); n != 1 {
			t.Errorf("%d starts, want 1", n)
		}
	})
	t.Run("noop", func(t *testing.T) {
		s.v.WriteKV("web/noop", map[string]any{"v": "2"})
		eventually(t, "noop's file to change", func() bool {
			b, _ := os.ReadFile(filepath.Join(s.taskDir(), "local/noop.txt"))
			return string(b) == "2"
		})
		p.logHas(t, "template local/noop.txt re-rendered")
		rs := records(s.out)
		if count(rs, "start") != 1 || count(rs, "signal") != 1 {
			t.Errorf("noop acted on the process: %v", rs)
		}
	})
	t.Run("restart", func(t *testing.T) {
		s.v.WriteKV("web/restart", map[string]any{"v": "2"})
		eventually(t, "a second start", func() bool { return count(records(s.out), "start") == 2 })
		second, _ := lastStart(records(s.out))
		if second.PID == first.PID {
			t.Error("restarted process has the same pid")
		}
		// The old process was asked to stop with its kill_signal.
		if n := count(records(s.out), "exit"); n != 1 {
			t.Errorf("%d graceful exits, want 1", n)
		}
	})
}

func TestSeveralChangesRestartOnce(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/shared", map[string]any{"a": "1", "b": "1", "c": "1"})
	field := func(f, mode string) string {
		return `
  template {
    data        = "{{ with secret \"secret/data/web/shared\" }}{{ .Data.data.` + f + ` }}{{ end }}"
    destination = "local/` + f + `.txt"
    change_mode = "` + mode + `"
    change_signal = "SIGHUP"
    splay       = "0s"
  }
`
	}
	cfg := s.config(t, fast+s.taskBlock(nil, field("a", "restart")+field("b", "restart")+field("c", "signal")))
	p := tmplrun(t, s.env(), "run", cfg)
	eventually(t, "the process to start", func() bool { return count(records(s.out), "start") == 1 })

	s.v.WriteKV("web/shared", map[string]any{"a": "2", "b": "2", "c": "2"})
	eventually(t, "the restart", func() bool { return count(records(s.out), "start") == 2 })
	// Give a second, wrong, action time to show up before counting.
	p.logHas(t, "restart")
	time.Sleep(3 * time.Second)
	rs := records(s.out)
	if count(rs, "start") != 2 {
		t.Errorf("%d starts, want 2: three templates changing together restart once", count(rs, "start"))
	}
	for _, r := range rs {
		if r.Event == "signal" && r.Signal == "hangup" {
			t.Error("the signal template was signalled although a restart won")
		}
	}
}

func TestRestoreFiresNothingWhenNothingChanged(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/config", map[string]any{"greeting": "one"})
	cfg := s.config(t, fast+s.taskBlock([]string{"-read", "local/app.conf"}, greetingTemplate("")))
	dest := filepath.Join(s.taskDir(), "local/app.conf")

	p := tmplrun(t, s.env(), "run", cfg)
	eventually(t, "the first start", func() bool { return count(records(s.out), "start") == 1 })
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	before, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}

	p = tmplrun(t, s.env(), "run", cfg)
	eventually(t, "the second start", func() bool { return count(records(s.out), "start") == 2 })
	p.logHas(t, "all templates rendered")
	after, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("an unchanged file was rewritten on restore")
	}
	if strings.Contains(p.stderr.String(), "re-rendered") {
		t.Errorf("restore over unchanged files fired a change:\n%s", p.stderr.String())
	}
	p.stop(t)

	// A secret that changed while tmplrun was down: the file is rewritten
	// before the process starts, and the process starts once.
	s.v.WriteKV("web/config", map[string]any{"greeting": "two"})
	p = tmplrun(t, s.env(), "run", cfg)
	eventually(t, "the third start", func() bool { return count(records(s.out), "start") == 3 })
	start, _ := lastStart(records(s.out))
	if start.Files["local/app.conf"] != "two" {
		t.Errorf("the process started with %q, want the new secret", start.Files["local/app.conf"])
	}
	time.Sleep(2 * time.Second)
	if n := count(records(s.out), "start"); n != 3 {
		t.Errorf("%d starts, want 3: a changed file at restore does not restart the process it was rendered for", n)
	}
}

func TestVaultOutageLeavesTheTaskAlone(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/config", map[string]any{"greeting": "before"})
	cfg := s.config(t, fast+s.taskBlock(nil, greetingTemplate(`    splay       = "0s"`)))
	p := tmplrun(t, s.env(), "run", "-http-addr", "127.0.0.1:0", cfg)
	eventually(t, "the process to start", func() bool { return count(records(s.out), "start") == 1 })
	base := statusURL(t, p)
	dest := filepath.Join(s.taskDir(), "local/app.conf")

	s.v.Down()
	p.logHas(t, "unreachable")
	eventually(t, "status to show Vault unreachable", func() bool {
		st := getStatus(t, base)
		return len(st.Tasks) == 1 && !st.Tasks[0].Vault.Reachable
	})
	time.Sleep(3 * time.Second) // several failed polls
	if got := readFile(t, dest); got != "before" {
		t.Errorf("file during the outage = %q, want it untouched", got)
	}
	rs := records(s.out)
	if count(rs, "start") != 1 || count(rs, "signal") != 0 {
		t.Errorf("the outage touched the process: %v", rs)
	}
	s.v.Up()
	p.logHas(t, "reachable again")

	s.v.WriteKV("web/config", map[string]any{"greeting": "after"})
	eventually(t, "the change after recovery", func() bool { return count(records(s.out), "start") == 2 })
	if got := readFile(t, dest); got != "after" {
		t.Errorf("file after recovery = %q", got)
	}
}

func TestPlantedSymlinkIsNotFollowed(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/config", map[string]any{"greeting": "one"})
	cfg := s.config(t, fast+s.taskBlock(nil, greetingTemplate(`    change_mode = "noop"`)))
	p := tmplrun(t, s.env(), "run", cfg)
	eventually(t, "the process to start", func() bool { return count(records(s.out), "start") == 1 })

	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(s.taskDir(), "local/app.conf")
	if err := os.Remove(dest); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, dest); err != nil {
		t.Fatal(err)
	}
	s.v.WriteKV("web/config", map[string]any{"greeting": "two"})
	p.logHas(t, "re-rendered")
	if got := readFile(t, victim); got != "precious" {
		t.Errorf("the write followed the planted symlink: victim = %q", got)
	}
	fi, err := os.Lstat(dest)
	if err != nil || fi.Mode()&os.ModeSymlink != 0 || readFile(t, dest) != "two" {
		t.Errorf("destination is not the new regular file: %v %v", fi, err)
	}
}

func TestStatusAndMetrics(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/config", map[string]any{"greeting": "status-secret-value"})
	cfg := s.config(t, fast+s.taskBlock(nil, greetingTemplate("")+`
  template {
    data        = "{{ with secret \"secret/data/web/missing\" }}{{ .Data.data.x }}{{ end }}"
    destination = "local/later.conf"
  }
`))
	p := tmplrun(t, s.env(), "run", "-http-addr", "127.0.0.1:0", cfg)
	base := statusURL(t, p)
	eventually(t, "status naming the missing secret", func() bool {
		st := getStatus(t, base)
		return len(st.Tasks) == 1 && st.Tasks[0].State == "waiting" && len(st.Tasks[0].Templates) == 2 &&
			slices.Contains(st.Tasks[0].Templates[1].Missing, "vault.read(secret/data/web/missing)")
	})
	s.v.WriteKV("web/missing", map[string]any{"x": "y"})
	eventually(t, "the task to run", func() bool {
		st := getStatus(t, base)
		return st.Tasks[0].State == "running" && st.Tasks[0].PID > 0
	})
	st := getStatus(t, base)
	task := st.Tasks[0]
	if task.Token == nil || task.Token.TTLSeconds <= 0 || task.Token.State != "healthy" {
		t.Errorf("token status = %+v", task.Token)
	}
	if task.Templates[0].LastRender == nil || task.Templates[0].Destination != "local/app.conf" {
		t.Errorf("template status = %+v", task.Templates[0])
	}
	metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`tmplrun_renders_total{task="web",template="local/app.conf"} 1`,
		`tmplrun_missing_dependencies{task="web",template="local/later.conf"} 0`,
		`tmplrun_token_ttl_seconds{task="web"}`,
		`tmplrun_task_running{task="web"} 1`,
		`tmplrun_vault_requests_total{task="web"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	raw := get(t, base+"/v1/status")
	for _, secret := range []string{"status-secret-value", s.v.RootToken} {
		if strings.Contains(raw, secret) || strings.Contains(metrics, secret) {
			t.Errorf("a secret value appears in status or metrics: %q", secret)
		}
	}
}

// statusSnapshot mirrors the parts of /v1/status the tests read.
type statusSnapshot struct {
	Clusters []statusToken `json:"clusters"`
	Tasks    []struct {
		Name      string       `json:"name"`
		State     string       `json:"state"`
		PID       int          `json:"pid"`
		LastError string       `json:"last_error"`
		Token     *statusToken `json:"token"`
		Vault     struct {
			Reachable bool `json:"reachable"`
		} `json:"vault"`
		Templates []struct {
			Destination string     `json:"destination"`
			LastRender  *time.Time `json:"last_render"`
			Missing     []string   `json:"missing"`
		} `json:"templates"`
	} `json:"tasks"`
}

type statusToken struct {
	Cluster      string   `json:"cluster"`
	State        string   `json:"state"`
	Policies     []string `json:"policies"`
	TTLSeconds   float64  `json:"ttl_seconds"`
	NeverExpires bool     `json:"never_expires"`
	Generation   int      `json:"generation"`
	Next         string   `json:"next"`
}

var listening = regexp.MustCompile(`status on (http://[0-9.:]+)/v1/status`)

// statusURL waits for tmplrun to say where it serves status.
func statusURL(t *testing.T, p *proc) string {
	t.Helper()
	var base string
	eventually(t, "the status server", func() bool {
		m := listening.FindStringSubmatch(p.stderr.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	})
	return base
}

func getStatus(t *testing.T, base string) statusSnapshot {
	t.Helper()
	var st statusSnapshot
	if err := json.Unmarshal([]byte(get(t, base+"/v1/status")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
