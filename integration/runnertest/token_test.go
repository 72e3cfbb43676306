package runnertest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
)

// tokenSwitchTask is a task that reads a KV v1 secret, a KV v2 secret and
// dynamic database credentials, all with change_mode restart.
func tokenSwitchTask(t *testing.T, v *vaulttest.Vault) runner.Config {
	v.WriteKV1("web", map[string]any{"api_key": "kv1-api-key"})
	v.WriteKV("web", map[string]any{"password": "kv2-password-1"})
	creds := v.DatabaseRole("app", vaulttest.DatabaseRole{DefaultTTL: time.Hour, MaxTTL: 2 * time.Hour})
	cfg := config(t, v, taskToken(v),
		tmpl("secrets/kv1.conf", `{{ with secret "kv/web" }}{{ .Data.api_key }}{{ end }}`, template.ChangeModeRestart),
		tmpl("secrets/kv2.conf", `{{ with secret "secret/data/web" }}{{ .Data.data.password }}{{ end }}`, template.ChangeModeRestart),
		tmpl("secrets/db.env", `{{ with secret "`+creds+`" }}DB_USER={{ .Data.username }}{{ end }}`+"\n", template.ChangeModeRestart, withEnv),
	)
	cfg.Vault = template.NewVault()
	cfg.Vault.ChangeMode = template.ChangeModeNoop
	return cfg
}

// TestTokenSwitchRefetchesNothing switches a running task to a new token
// in place: nothing is re-fetched, nothing re-renders, nothing fires, and
// the new token is the one used from then on. Then, for comparison, it
// does what Nomad does on a new token — a new runner over the same task
// dir — and counts what that costs.
func TestTokenSwitchRefetchesNothing(t *testing.T) {
	v := startVault(t)
	cfg := tokenSwitchTask(t, v)
	k := newTask()
	cfg.Lifecycle = k
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	env := waitFirst(t, r)
	k.setRunning(true)
	renders := ev.count(kind(runner.KindRendered))

	// The new token can make exactly 1000 requests: its remaining uses
	// show that the runner uses it.
	newToken := v.CreateToken(vaulttest.TokenOptions{Policies: []string{"task"}, TTL: time.Hour, NumUses: 1000})
	v.ResetRequests()
	r.SetToken(newToken)
	ev.wait(t, "token switch", func(e runner.Event) bool { return e.Kind == runner.KindChange && e.Token })
	// Wait for three re-reads of the KV v2 secret (it is polled every
	// ~0.9 s): the runner has been running with the new token a while.
	waitReads(t, v, "secret/data/web", 3)
	got := v.Requests()
	polled := got.Reads("secret/data/web")
	t.Logf("in place: %d requests after the switch, all KV v2 polls (%d); by path:\n%s", got.Total(), polled, got)
	if others := got.Total() - polled; others != 0 {
		t.Errorf("the switch re-fetched %d things:\n%s", others, got)
	}
	// Every poll used the new token (one may still be in flight when
	// counted, on either side of the lookup).
	info, ok := v.LookupToken(newToken)
	after := v.Requests().Reads("secret/data/web")
	if used := 1000 - info.NumUses; !ok || used < polled-1 || used > after || used == 0 {
		t.Errorf("the new token was used %d times; Vault served %d to %d polls", used, polled, after)
	}
	if n := ev.count(kind(runner.KindRendered)); n != renders {
		t.Errorf("%d renders after the switch, want %d", n, renders)
	}
	if calls := k.Calls(); len(calls) != 0 {
		t.Errorf("the switch fired %v", calls)
	}

	// For comparison, Nomad's way: stop, and start a new runner with the
	// new token over the same task dir (the task keeps running).
	r.Stop()
	requireNoGoroutinesLeft(t)
	v.ResetRequests()
	cfg2 := cfg
	cfg2.Token = v.CreateToken(vaulttest.TokenOptions{Policies: []string{"task"}, TTL: time.Hour})
	ev2 := newEvents()
	cfg2.Events = ev2
	r2 := start(t, cfg2)
	env2 := waitFirst(t, r2)
	rebuilt := v.Requests()
	t.Logf("rebuilt: %d requests to render again; by path:\n%s", rebuilt.Total(), rebuilt)
	if rebuilt.Reads("database/creds/app") != 1 || env2["DB_USER"] == env["DB_USER"] {
		t.Errorf("a rebuilt runner should issue new credentials: %v → %v", env["DB_USER"], env2["DB_USER"])
	}
	// The task runs, and its credentials file changed: one restart.
	if diff := cmp.Diff([]string{"restart"}, k.waitCalls(t, 1)); diff != "" {
		t.Errorf("rebuild calls (-want +got):\n%s", diff)
	}
	if got := readFile(t, filepath.Join(cfg.Dir, "secrets/kv1.conf")); got != "kv1-api-key" {
		t.Errorf("kv1.conf = %q", got)
	}
	r2.Stop()
	requireNoGoroutinesLeft(t)
}

// TestTokenSwitchAppliesVaultChangeMode: the vault block's change_mode
// fires once per new token, never for the same token again.
func TestTokenSwitchAppliesVaultChangeMode(t *testing.T) {
	v := startVault(t)
	v.WriteKV("web", map[string]any{"password": "p"})
	cfg := config(t, v, taskToken(v),
		tmpl("secrets/app.conf", `{{ with secret "secret/data/web" }}{{ .Data.data.password }}{{ end }}`, template.ChangeModeNoop))
	cfg.Vault = template.NewVault()
	cfg.Vault.ChangeMode = template.ChangeModeSignal
	cfg.Vault.ChangeSignal = "SIGUSR1"
	k := newTask()
	cfg.Lifecycle = k
	r := start(t, cfg)
	waitFirst(t, r)
	k.setRunning(true)
	r.SetToken(cfg.Token) // a renewal: the same token
	r.SetToken(taskToken(v))
	if diff := cmp.Diff([]string{"signal SIGUSR1"}, k.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// The next KV write still renders, with the new token.
	v.WriteKV("web", map[string]any{"password": "p2"})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for readFile(t, filepath.Join(cfg.Dir, "secrets/app.conf")) != "p2" {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("not re-rendered with the new token")
		}
	}
}
