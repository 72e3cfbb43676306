package runnertest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
)

func withEnv(t *template.Template) { t.Env = true }

func TestKVChangeReRendersAndActsAsPlanned(t *testing.T) {
	v := startVault(t)
	v.WriteKV("web", map[string]any{"password": "correct-horse-1", "user": "app"})
	cfg := config(t, v, taskToken(v),
		tmpl("secrets/app.env", `{{ with secret "secret/data/web" }}DB_PASSWORD={{ .Data.data.password }}{{ end }}`+"\n",
			template.ChangeModeRestart, withEnv),
		tmpl("local/user.txt", `{{ with secret "secret/data/web" }}{{ .Data.data.user }}{{ end }}`, template.ChangeModeSignal),
	)
	k := newTask()
	cfg.Lifecycle = k
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	env := waitFirst(t, r)
	if env["DB_PASSWORD"] != "correct-horse-1" {
		t.Fatalf("first env %v", env)
	}
	k.setRunning(true)

	// Only the env template's output changes: one restart, no signal.
	v.WriteKV("web", map[string]any{"password": "correct-horse-2", "user": "app"})
	if diff := cmp.Diff([]string{"restart"}, k.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := r.Env()["DB_PASSWORD"]; got != "correct-horse-2" {
		t.Errorf("env after the change: %q", got)
	}
	if got := readFile(t, filepath.Join(cfg.Dir, "secrets/app.env")); got != "DB_PASSWORD=correct-horse-2\n" {
		t.Errorf("app.env = %q", got)
	}
	// Only user.txt changes: a signal.
	v.WriteKV("web", map[string]any{"password": "correct-horse-2", "user": "app2"})
	if diff := cmp.Diff([]string{"restart", "signal SIGHUP"}, k.waitCalls(t, 2)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}

	// Re-reads of an unchanged KV v2 secret (every ~0.9 s here) render
	// nothing and fire nothing.
	renders := ev.count(kind(runner.KindRendered))
	before := v.Requests().Reads("secret/data/web")
	waitReads(t, v, "secret/data/web", before+3)
	if got := ev.count(kind(runner.KindRendered)); got != renders {
		t.Errorf("%d renders after unchanged re-reads, want %d", got, renders)
	}
	if got := len(k.Calls()); got != 2 {
		t.Errorf("lifecycle calls after unchanged re-reads: %v", k.Calls())
	}
	for _, e := range ev.list() {
		if strings.Contains(e.Message, "correct-horse") {
			t.Errorf("event carries a secret: %+v", e)
		}
	}
	r.Stop()
	requireNoGoroutinesLeft(t)
}
