package runnertest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/template"
)

// creatorToken is a task token that may also create child tokens
// (auth/token/create: a vault.write dependency).
func creatorToken(v *vaulttest.Vault) string {
	v.PutPolicy("creator", `path "auth/token/create" { capabilities = ["create", "update"] }`)
	return v.CreateToken(vaulttest.TokenOptions{Policies: []string{"task", "creator"}, TTL: time.Hour})
}

// TestStopIsPromptWhileANonRenewableWriteSleeps: after writing
// auth/token/create for a non-renewable token, consul-template's
// vault.write sleeps ~90% of the token's hour in time.Sleep, deaf to Stop.
// Stop must return at once all the same, leave nothing running and write
// nothing more.
func TestStopIsPromptWhileANonRenewableWriteSleeps(t *testing.T) {
	v := startVault(t)
	const dest = "secrets/child.txt"
	cfg := config(t, v, creatorToken(v),
		tmpl(dest, `{{ with secret "auth/token/create" "policies=task" "ttl=1h" "renewable=false" }}{{ .Auth.Accessor }}{{ end }}`,
			template.ChangeModeNoop))
	r := start(t, cfg)
	waitFirst(t, r)
	first := readFile(t, filepath.Join(cfg.Dir, dest))
	if first == "" {
		t.Fatal("no accessor rendered")
	}
	stopped := make(chan struct{})
	go func() {
		r.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(testTimeout):
		t.Fatal("Stop hangs while vault.write sleeps")
	}
	requireNoGoroutinesLeft(t)
	if n := v.Requests().Path("auth/token/create"); n != 1 {
		t.Errorf("%d tokens created, want 1:\n%s", n, v.Requests())
	}
	if got := readFile(t, filepath.Join(cfg.Dir, dest)); got != first {
		t.Errorf("file changed after Stop: %q, was %q", got, first)
	}
}

// TestRenewedTokenIsNotReadWhileRenewed: a renewable token from
// auth/token/create is renewed by consul-template in place (its Auth
// fields) while the runner renders the templates again and again, reading
// that token's secret. Under -race this must not be a data race: the
// runner works on a deep copy.
func TestRenewedTokenIsNotReadWhileRenewed(t *testing.T) {
	v := startVault(t)
	v.WriteKV("web", map[string]any{"v": "0"})
	cfg := config(t, v, creatorToken(v),
		tmpl("secrets/child.txt", `{{ with secret "auth/token/create" "policies=task" "ttl=3s" }}{{ .Auth.Accessor }} {{ .Auth.LeaseDuration }} {{ .Auth.Renewable }}{{ end }}`,
			template.ChangeModeNoop),
		tmpl("local/v.txt", `{{ with secret "secret/data/web" }}{{ .Data.data.v }}{{ end }}`, template.ChangeModeNoop),
	)
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	waitFirst(t, r)
	// Each new value is a pass: both templates are executed again. Go on
	// until the token has been renewed a few times meanwhile.
	for i := 1; v.Requests().Path("auth/token/renew-self") < 3; i++ {
		if i > 100 {
			t.Fatalf("the token was not renewed:\n%s", v.Requests())
		}
		v.WriteKV("web", map[string]any{"v": fmt.Sprint(i)})
		ev.wait(t, "local/v.txt rendered", ev.nthRendered("local/v.txt", i+1))
	}
	if n := v.Requests().Path("auth/token/create"); n != 1 {
		t.Errorf("%d tokens created, want 1 (renewed, not re-created):\n%s", n, v.Requests())
	}
	r.Stop()
	requireNoGoroutinesLeft(t)
}

// TestVaultDefaultLeaseDurationApplied: a KV v2 secret has no lease; it is
// re-read every ~90% of vault_default_lease_duration — this package's 1 s,
// not the 5 min default.
func TestVaultDefaultLeaseDurationApplied(t *testing.T) {
	v := startVault(t)
	v.WriteKV("web", map[string]any{"v": "1"})
	cfg := config(t, v, taskToken(v),
		tmpl("local/v.txt", `{{ with secret "secret/data/web" }}{{ .Data.data.v }}{{ end }}`, template.ChangeModeNoop))
	r := start(t, cfg)
	waitFirst(t, r)
	if dep.VaultDefaultLeaseDuration != leaseDuration {
		t.Errorf("consul-template's default lease duration is %v, want %v", dep.VaultDefaultLeaseDuration, leaseDuration)
	}
	waitReads(t, v, "secret/data/web", 4)
	r.Stop()
	requireNoGoroutinesLeft(t)
}
