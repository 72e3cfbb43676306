package vaultauthtest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

func (r *rig) appRoleCluster(t *testing.T, period time.Duration) *template.VaultCluster {
	t.Helper()
	creds := r.v.AppRole("tmplrun", vaulttest.AppRole{Policies: []string{"tmplrun"}, TokenPeriod: period})
	c := &template.VaultCluster{
		Address:        r.v.Addr,
		CreateFromRole: TokenRole,
		Auth: &template.Auth{
			Method:       template.AuthAppRole,
			RoleIDFile:   r.writeFile(t, "role_id", creds.RoleID+"\n"),
			SecretIDFile: r.writeFile(t, "secret_id", creds.SecretID+"\n"),
		},
	}
	canonical(c)
	return c
}

// ownTokens are the accessors of tokens tmplrun obtained by AppRole login.
func ownTokens(t *testing.T, v *vaulttest.Vault) []string {
	t.Helper()
	return tokensFrom(t, v, "auth/approle/login")
}

// tokensFrom are the accessors of the tokens created at path.
func tokensFrom(t *testing.T, v *vaulttest.Vault, path string) []string {
	t.Helper()
	c := v.Client()
	list, err := c.Logical().List("auth/token/accessors")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	keys, _ := list.Data["keys"].([]any)
	for _, k := range keys {
		s, err := c.Auth().Token().LookupAccessor(k.(string))
		if err != nil {
			continue
		}
		if s.Data["path"] == path {
			out = append(out, k.(string))
		}
	}
	return out
}

// tmplrun logs in with a role_id and secret_id from files, derives task
// tokens with that login, and revokes its login token at Close.
func TestAppRoleLogin(t *testing.T) {
	t.Parallel()
	r := newRig(t, time.Hour)
	cs, err := vaultauth.NewClusters([]*template.VaultCluster{r.appRoleCluster(t, time.Hour)}, r.options(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	c, _ := cs.Get("")
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	st := c.Status()
	if st.State != vaultauth.StateHealthy || st.TTL != time.Hour || !st.Renewable || len(ownTokens(t, r.v)) != 1 {
		t.Errorf("after login: %+v", st)
	}
	tok, err := cs.Task(ctx, r.task("web", &template.Vault{Policies: []string{"web"}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.v.LookupToken(tok.Token().Secret()); !ok {
		t.Error("no task token")
	}
	if err := cs.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := ownTokens(t, r.v); len(left) != 0 {
		t.Errorf("tmplrun's login token survived Close: %v", left)
	}
}

func TestAppRoleBadSecretID(t *testing.T) {
	t.Parallel()
	r := newRig(t, time.Hour)
	block := r.appRoleCluster(t, time.Hour)
	block.Auth.SecretIDFile = r.writeFile(t, "wrong", "00000000-1111-2222-3333-444444444444")
	cs := r.clusters(t, r.options(t), block)
	c, _ := cs.Get("")
	err := c.Login(ctxFor(t))
	if err == nil {
		t.Fatal("login with a wrong secret_id succeeded")
	}
	if !strings.Contains(err.Error(), "auth/approle/login") || strings.Contains(err.Error(), "4444") {
		t.Errorf("error %q: want the login named, the secret_id never shown", err)
	}
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 400 {
		t.Errorf("error %v: want Vault's 400 reachable with errors.As", err)
	}
	t.Logf("a wrong secret_id: %v", err)
}

// tmplrun's own token revoked from outside: it logs in again, at its next
// renewal or as soon as a task derivation is denied.
func TestOwnTokenReacquired(t *testing.T) {
	t.Parallel()
	r := newRig(t, time.Hour)
	cs := r.clusters(t, r.options(t), r.appRoleCluster(t, 3*time.Second))
	ctx := ctxFor(t)
	c, _ := cs.Get("")
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	revokeOwn := func() {
		for _, a := range ownTokens(t, r.v) {
			if err := r.v.Client().Auth().Token().RevokeAccessor(a); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Found at the next renewal (within 2.1 s).
	revokeOwn()
	r.events.waitFor(t, "", vaultauth.EventReplaced, 1, 20*time.Second)
	if st := c.Status(); st.Generation != 2 || st.State != vaultauth.StateHealthy {
		t.Errorf("after re-login: %+v", st)
	}

	// Found when a task's derivation is denied: the task still starts.
	revokeOwn()
	tok, err := cs.Task(ctx, r.task("web", &template.Vault{Policies: []string{"web"}}))
	if err != nil {
		t.Fatalf("deriving while tmplrun's token is revoked: %v\nevents:\n%s", err, r.events)
	}
	if _, ok := r.v.LookupToken(tok.Token().Secret()); !ok {
		t.Error("no task token")
	}
	if st := c.Status(); st.Generation < 3 {
		t.Errorf("tmplrun did not log in again: %+v", st)
	}
}
