package runnertest

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
)

func TestVaultOutageLeavesFilesAndTaskAloneAndRecovers(t *testing.T) {
	v := startVault(t)
	v.WriteKV("web", map[string]any{"password": "before-outage"})
	cfg := config(t, v, taskToken(v),
		tmpl("secrets/app.conf", `{{ with secret "secret/data/web" }}{{ .Data.data.password }}{{ end }}`, template.ChangeModeSignal))
	k := newTask()
	cfg.Lifecycle = k
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	waitFirst(t, r)
	k.setRunning(true)
	dest := filepath.Join(cfg.Dir, "secrets/app.conf")

	v.Down()
	ev.wait(t, "vault unreachable", kind(runner.KindVaultUnreachable))
	ev.wait(t, "dependency error", kind(runner.KindDependencyError))
	st := r.Status()
	if st.Vault.Reachable || st.Vault.Errors == 0 || st.Vault.LastError == "" || len(st.Failing) != 1 {
		t.Errorf("status during the outage: %+v", st)
	}
	// Several failed re-reads later: the file and the task are untouched.
	waitErrors(t, r, st.Vault.Errors+3)
	if got := readFile(t, dest); got != "before-outage" {
		t.Errorf("file during the outage: %q", got)
	}
	if calls := k.Calls(); len(calls) != 0 {
		t.Errorf("lifecycle called during the outage: %v", calls)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("runner stopped: %v", err)
	}

	v.Up()
	ev.wait(t, "vault reachable", kind(runner.KindVaultReachable))
	ev.wait(t, "dependency recovered", kind(runner.KindDependencyRecovered))
	if st := r.Status(); !st.Vault.Reachable || len(st.Failing) != 0 {
		t.Errorf("status after the outage: %+v", st)
	}
	v.WriteKV("web", map[string]any{"password": "after-outage"})
	if diff := cmp.Diff([]string{"signal SIGHUP"}, k.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := readFile(t, dest); got != "after-outage" {
		t.Errorf("file after the outage: %q", got)
	}
	r.Stop()
	requireNoGoroutinesLeft(t)
}
