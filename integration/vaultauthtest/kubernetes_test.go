package vaultauthtest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/vault/api"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// kubernetesRig is a rig whose Vault has the kubernetes auth method, a
// role "tmplrun" bound to service account tmplrun in namespace apps with
// tmplrun's policy, and a cluster block logging in with it from a
// service-account token file.
func kubernetesRig(t *testing.T) (*rig, *vaulttest.Kubernetes, *template.VaultCluster) {
	t.Helper()
	r := newRig(t, time.Hour)
	k := r.v.EnableKubernetes(vaulttest.KubernetesConfig{})
	r.v.KubernetesRole("tmplrun", vaulttest.KubernetesRole{
		ServiceAccountNames:      []string{"tmplrun"},
		ServiceAccountNamespaces: []string{"apps"},
		Policies:                 []string{"tmplrun"},
		TokenPeriod:              3 * time.Second,
	})
	block := &template.VaultCluster{
		Address:        r.v.Addr,
		CreateFromRole: TokenRole,
		Auth: &template.Auth{
			Method:    template.AuthKubernetes,
			Role:      "tmplrun",
			TokenPath: r.writeFile(t, "sa-token", k.ServiceAccountToken("apps", "tmplrun")+"\n"),
		},
	}
	canonical(block)
	return r, k, block
}

// tmplrun logs in with its pod's service-account token through Vault's
// real kubernetes auth plugin, keeps that token alive, derives task
// tokens with it, and revokes both at Close.
func TestKubernetesLogin(t *testing.T) {
	t.Parallel()
	r, k, block := kubernetesRig(t)
	cs, err := vaultauth.NewClusters([]*template.VaultCluster{block}, r.options(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	c, _ := cs.Get("")
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	own := tokensFrom(t, r.v, "auth/kubernetes/login")
	if st := c.Status(); st.State != vaultauth.StateHealthy || st.TTL != 3*time.Second || len(own) != 1 {
		t.Fatalf("after login: %+v, %d login tokens", st, len(own))
	}
	meta, err := r.v.Client().Auth().Token().LookupAccessor(own[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := meta.Data["meta"].(map[string]any); got["service_account_name"] != "tmplrun" || got["service_account_namespace"] != "apps" {
		t.Errorf("login token metadata %v: want the service account", got)
	}
	task := r.task("web", &template.Vault{Policies: []string{"web"}})
	tok, err := cs.Task(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := r.v.LookupToken(tok.Token().Secret())
	if !ok {
		t.Fatal("no task token")
	}
	if diff := cmp.Diff([]string{"default", "web"}, info.Policies); diff != "" {
		t.Errorf("task token policies (-want +got):\n%s", diff)
	}
	// tmplrun's own 3 s token is renewed (the plugin checks its role at
	// every renewal).
	r.events.waitFor(t, "", vaultauth.EventRenewed, 2, 20*time.Second)
	if total, _ := k.Reviews(); total != 1 {
		t.Errorf("%d TokenReviews, want 1 (the login; renewals need none)", total)
	}

	if err := cs.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := tokensFrom(t, r.v, "auth/kubernetes/login"); len(left) != 0 {
		t.Errorf("tmplrun's login token survived Close: %v", left)
	}
	if _, ok := r.v.LookupToken(tok.Token().Secret()); ok {
		t.Error("the task token survived Close")
	}
	noSecrets(t, r, k.ServiceAccountToken("apps", "tmplrun"))
}

// A service-account token Kubernetes no longer honours, an account or
// namespace the role does not bind, and an unknown role: each is refused
// at once with Vault's reason, and no message shows the token.
func TestKubernetesLoginRefused(t *testing.T) {
	t.Parallel()
	r, k, block := kubernetesRig(t)
	revoked := k.ServiceAccountToken("apps", "tmplrun")
	k.Revoke(revoked)
	tests := []struct {
		name, role, jwt string
		want            []string
	}{
		{"revoked service-account token", "tmplrun", revoked, []string{"403", "permission denied"}},
		{"unbound service account", "tmplrun", k.ServiceAccountToken("apps", "web"), []string{"403", "service account name not authorized"}},
		{"unbound namespace", "tmplrun", k.ServiceAccountToken("default", "tmplrun"), []string{"403", "namespace not authorized"}},
		{"unknown role", "nope", k.ServiceAccountToken("apps", "tmplrun"), []string{"400", `invalid role name "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := *block
			auth := *block.Auth
			auth.Role = tt.role
			auth.TokenPath = r.writeFile(t, strings.ReplaceAll(tt.name, " ", "-"), tt.jwt)
			b.Auth = &auth
			cs := r.clusters(t, r.options(t), &b)
			c, _ := cs.Get("")
			err := c.Login(ctxFor(t))
			if err == nil {
				t.Fatal("login succeeded")
			}
			for _, want := range append([]string{`kubernetes role "` + tt.role + `"`, "auth/kubernetes/login"}, tt.want...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), tt.jwt) || strings.Contains(err.Error(), "eyJ") {
				t.Errorf("the error shows the service-account token: %v", err)
			}
			var re *api.ResponseError
			if !errors.As(err, &re) {
				t.Errorf("error %v: want Vault's answer reachable with errors.As", err)
			}
			if st := c.Status(); st.State != vaultauth.StateIdle {
				t.Errorf("status after a refused login: %+v", st)
			}
			noSecrets(t, r, tt.jwt)
		})
	}
}

// noSecrets fails when an event of r shows jwt, or any token Vault has.
func noSecrets(t *testing.T, r *rig, jwt string) {
	t.Helper()
	for _, e := range r.events.all() {
		s := e.String()
		if e.Err != nil {
			s += " " + e.Err.Error()
		}
		if strings.Contains(s, jwt) || strings.Contains(s, "eyJ") || strings.Contains(s, "hvs.") {
			t.Errorf("event %q shows a token", s)
		}
	}
}
