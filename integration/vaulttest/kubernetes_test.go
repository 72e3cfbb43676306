package vaulttest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// Vault's real kubernetes auth plugin against the TokenReview stand-in: a
// bound service account logs in; an unbound one, another namespace, an
// unknown role, a revoked token, and a token Kubernetes never signed are
// refused.
func TestKubernetes(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("web", webPolicy)
	k := v.EnableKubernetes(vaulttest.KubernetesConfig{})
	v.KubernetesRole("web", vaulttest.KubernetesRole{
		ServiceAccountNames:      []string{"web"},
		ServiceAccountNamespaces: []string{"apps"},
		Policies:                 []string{"web"},
		TokenPeriod:              time.Hour,
	})
	revoked := k.ServiceAccountToken("apps", "web")
	k.Revoke(revoked)
	forged := vaulttest.NewSigner(t).Sign(map[string]any{
		"iss": vaulttest.KubernetesIssuer, "sub": "system:serviceaccount:apps:web",
		"kubernetes.io": map[string]any{"namespace": "apps", "serviceaccount": map[string]any{"name": "web", "uid": vaulttest.ServiceAccountUID("apps", "web")}},
	})

	tests := []struct {
		name, role, jwt string
		wantErr         string
	}{
		{"bound service account", "web", k.ServiceAccountToken("apps", "web"), ""},
		{"unbound service account", "web", k.ServiceAccountToken("apps", "db"), "service account name not authorized"},
		{"unbound namespace", "web", k.ServiceAccountToken("other", "web"), "namespace not authorized"},
		{"unknown role", "nope", k.ServiceAccountToken("apps", "web"), `invalid role name "nope"`},
		{"revoked token", "web", revoked, "permission denied"},
		{"token Kubernetes did not sign", "web", forged, "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := v.Client()
			c.ClearToken()
			sec, err := c.Logical().Write("auth/kubernetes/login", map[string]any{"role": tt.role, "jwt": tt.jwt})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("login: %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if diff := cmp.Diff([]string{"default", "web"}, sec.Auth.Policies); diff != "" {
				t.Errorf("policies (-want +got):\n%s", diff)
			}
			want := map[string]string{
				"role": "web", "service_account_name": "web", "service_account_namespace": "apps",
				"service_account_uid": vaulttest.ServiceAccountUID("apps", "web"), "service_account_secret_name": "",
			}
			if diff := cmp.Diff(want, sec.Auth.Metadata); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			c.SetToken(sec.Auth.ClientToken)
			if _, err := c.Auth().Token().RenewSelf(0); err != nil {
				t.Errorf("renew: %v", err)
			}
		})
	}
	// The revoked token reached the review; the forged one and the
	// unbound ones were stopped by Vault before it.
	if total, denied := k.Reviews(); total != 2 || denied != 1 {
		t.Errorf("TokenReviews: %d, %d unauthenticated; want 2, 1", total, denied)
	}
}
