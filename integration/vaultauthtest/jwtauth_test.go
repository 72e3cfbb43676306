package vaultauthtest

import (
	"os"
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// tmplrun's own login with auth "jwt": the JWT is read from its file at
// every login, so one the issuer rotated is used at the next one.
func TestJWTAuthMethodReadsTheFileAtEveryLogin(t *testing.T) {
	t.Parallel()
	r := newRig(t, time.Hour)
	issuer := r.v.EnableJWT(vaulttest.JWTConfig{Mount: "ci", BoundIssuer: "https://ci.example"})
	r.v.JWTRole("tmplrun", vaulttest.JWTRole{
		Mount:          "ci",
		BoundAudiences: []string{"vault"},
		BoundSubject:   "system:tmplrun",
		Policies:       []string{"tmplrun"},
		TokenPeriod:    3 * time.Second,
	})
	jwt := func() string {
		return issuer.Sign(map[string]any{"iss": "https://ci.example", "aud": "vault", "sub": "system:tmplrun"})
	}
	file := r.writeFile(t, "jwt", jwt())
	block := &template.VaultCluster{
		Address:        r.v.Addr,
		CreateFromRole: TokenRole,
		Auth:           &template.Auth{Method: template.AuthJWT, Path: file, Role: "tmplrun", Mount: "ci"},
	}
	canonical(block)
	cs := r.clusters(t, r.options(t), block)
	c, _ := cs.Get("")
	ctx := ctxFor(t)
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}

	// The JWT in the file goes bad, and tmplrun's token is revoked: the
	// next login is refused and retried with backoff...
	if err := os.WriteFile(file, []byte(issuer.Sign(map[string]any{"iss": "https://ci.example", "aud": "vault", "sub": "someone-else"})), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, a := range tokensFrom(t, r.v, "auth/ci/login") {
		if err := r.v.Client().Auth().Token().RevokeAccessor(a); err != nil {
			t.Fatal(err)
		}
	}
	r.events.waitFor(t, "", vaultauth.EventObtainFailed, 1, 20*time.Second)
	if st := c.Status(); st.State != vaultauth.StateRederiving || st.LastError == "" {
		t.Errorf("status while the JWT is bad: %+v", st)
	}
	// ...until a good JWT is in the file again.
	if err := os.WriteFile(file, []byte(jwt()), 0o600); err != nil {
		t.Fatal(err)
	}
	r.events.waitFor(t, "", vaultauth.EventReplaced, 1, 20*time.Second)
	if st := c.Status(); st.Generation != 2 || st.State != vaultauth.StateHealthy {
		t.Errorf("after the re-login: %+v", st)
	}
	if _, err := cs.Task(ctx, r.task("web", &template.Vault{Policies: []string{"web"}})); err != nil {
		t.Fatal(err)
	}
}
