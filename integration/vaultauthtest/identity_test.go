package vaultauthtest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// A task with a role logs in with a workload identity tmplrun signs; the
// JWT role binds it by claim. A task whose claims the role does not bind
// fails at once with Vault's reason. tmplrun's own login is not needed.
func TestWorkloadIdentityRoleLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  func() (any, error)
	}{
		{"RSA", func() (any, error) { return rsa.GenerateKey(rand.Reader, 2048) }},
		{"ECDSA P-256", func() (any, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }},
		{"Ed25519", func() (any, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, time.Hour)
			key, err := tt.key()
			if err != nil {
				t.Fatal(err)
			}
			der, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				t.Fatal(err)
			}
			keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
			pub, err := vaultauth.PublicKeyPEM(keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			r.v.EnableJWT(vaulttest.JWTConfig{PublicKeysPEM: []string{string(pub)}, BoundIssuer: "tmplrun"})
			r.v.JWTRole("web", vaulttest.JWTRole{
				BoundAudiences: []string{"vault.io"},
				BoundClaims:    map[string]any{"tmplrun_task": "web"},
				ClaimMappings:  map[string]string{"tmplrun_task": "task", "tmplrun_node": "node"},
				Policies:       []string{"web"},
				TokenPeriod:    time.Hour,
			})

			block := &template.VaultCluster{
				Address:  r.v.Addr,
				Auth:     &template.Auth{Method: template.AuthToken}, // no token anywhere: must not be needed
				Identity: &template.Identity{SigningKeyFile: r.writeFile(t, "wid.pem", string(keyPEM))},
			}
			canonical(block)
			cs := r.clusters(t, r.options(t), block)
			ctx := ctxFor(t)

			web := r.task("web", &template.Vault{Role: "web"})
			tok, err := cs.Task(ctx, web)
			if err != nil {
				t.Fatal(err)
			}
			info, ok := r.v.LookupToken(tok.Token().Secret())
			if !ok {
				t.Fatal("the task's token does not exist")
			}
			if diff := cmp.Diff([]string{"default", "web"}, info.Policies); diff != "" {
				t.Errorf("policies (-want +got):\n%s", diff)
			}
			if info.Meta["task"] != "web" || info.Meta["node"] != "node-1" || info.Meta["role"] != "web" {
				t.Errorf("token metadata %v: want the claims mapped", info.Meta)
			}
			if got, _ := tokenFile(t, web); got != tok.Token().Secret() {
				t.Error("token file does not hold the token")
			}
			c, _ := cs.Get("default")
			if st := c.Status(); st.State != vaultauth.StateIdle {
				t.Errorf("tmplrun logged in (%v) although no task needed its token", st.State)
			}

			_, err = cs.Task(ctx, r.task("db", &template.Vault{Role: "web"}))
			if err == nil {
				t.Fatal("task db logged in to the role bound to task web")
			}
			for _, want := range []string{"task's workload identity", `jwt role "web"`, `claim "tmplrun_task" does not match`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "eyJ") {
				t.Errorf("the error shows a JWT: %v", err)
			}
			if err := tok.Stop(ctx, true); err != nil {
				t.Fatal(err)
			}
			if _, ok := r.v.LookupToken(tok.Token().Secret()); ok {
				t.Error("the token survived Stop(revoke)")
			}
		})
	}
}
