package runnertest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
)

// TestDynamicCredentialsRenewedUntilMaxTTLThenReissuedOnce: database
// credentials with a short TTL are renewed (no re-render, nothing fires)
// until their max TTL; then they are issued again, re-rendered and acted
// on exactly once (nomad#17398, consul-template#2073).
func TestDynamicCredentialsRenewedUntilMaxTTLThenReissuedOnce(t *testing.T) {
	v := startVault(t)
	pg := v.EnableDatabase()
	creds := v.DatabaseRole("app", vaulttest.DatabaseRole{DefaultTTL: 3 * time.Second, MaxTTL: 9 * time.Second})
	const dest = "secrets/db.env"
	cfg := config(t, v, taskToken(v),
		tmpl(dest, `{{ with secret "`+creds+`" }}DB_USER={{ .Data.username }}
DB_PASSWORD={{ .Data.password }}
{{ end }}`, template.ChangeModeRestart, withEnv))
	k := newTask()
	cfg.Lifecycle = k
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	env1 := waitFirst(t, r)
	k.setRunning(true)
	if err := pg.Login(env1["DB_USER"], env1["DB_PASSWORD"]); err != nil {
		t.Fatalf("first credentials do not work: %v", err)
	}

	// Renewed before the max TTL, without a render.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(testTimeout)
	for v.Requests().Path("sys/leases/renew") == 0 {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("no lease renewal:\n%s", v.Requests())
		}
	}
	if n := ev.count(rendered(dest)); n != 1 {
		t.Errorf("%d renders after a renewal, want 1", n)
	}
	if calls := k.Calls(); len(calls) != 0 {
		t.Errorf("a renewal fired %v", calls)
	}

	// At the max TTL: new credentials, one render, one restart.
	ev.wait(t, "second render", ev.nthRendered(dest, 2))
	renewals := v.Requests().Path("sys/leases/renew")
	issued := v.Requests().Reads(creds)
	t.Logf("first lease: %d renewals, then credentials issued again (%d issued in all)", renewals, issued)
	if issued != 2 {
		t.Errorf("credentials issued %d times, want 2:\n%s", issued, v.Requests())
	}
	if diff := cmp.Diff([]string{"restart"}, k.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	env2 := r.Env()
	if env2["DB_USER"] == env1["DB_USER"] {
		t.Errorf("same user after re-issue: %q", env2["DB_USER"])
	}
	if err := pg.Login(env2["DB_USER"], env2["DB_PASSWORD"]); err != nil {
		t.Errorf("new credentials do not work: %v", err)
	}
	// The next lease goes the same way: exactly one more restart for it.
	ev.wait(t, "third render", ev.nthRendered(dest, 3))
	if diff := cmp.Diff([]string{"restart", "restart"}, k.waitCalls(t, 2)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if n := ev.count(func(e runner.Event) bool { return e.Kind == runner.KindChange }); n != 2 {
		t.Errorf("%d change actions for two re-issues, want 2", n)
	}
	r.Stop()
	requireNoGoroutinesLeft(t)
}
