package vaulttest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

func TestJWT(t *testing.T) {
	t.Parallel()
	// tmplrun's own key, given to Vault as PEM or as a JWKS.
	own := vaulttest.NewSigner(t)
	stranger := vaulttest.NewSigner(t)
	configs := []struct {
		name   string
		config func() vaulttest.JWTConfig
		signer func(generated *vaulttest.Signer) *vaulttest.Signer // who signs the good JWTs
	}{
		{
			name:   "generated key as PEM",
			config: func() vaulttest.JWTConfig { return vaulttest.JWTConfig{} },
			signer: func(g *vaulttest.Signer) *vaulttest.Signer { return g },
		},
		{
			name:   "generated key served as JWKS",
			config: func() vaulttest.JWTConfig { return vaulttest.JWTConfig{ServeJWKS: true} },
			signer: func(g *vaulttest.Signer) *vaulttest.Signer { return g },
		},
		{
			name:   "given PEM public key",
			config: func() vaulttest.JWTConfig { return vaulttest.JWTConfig{PublicKeysPEM: []string{own.PublicKeyPEM()}} },
			signer: func(*vaulttest.Signer) *vaulttest.Signer { return own },
		},
		{
			name:   "given JWKS, served",
			config: func() vaulttest.JWTConfig { return vaulttest.JWTConfig{JWKS: own.JWKS(), ServeJWKS: true} },
			signer: func(*vaulttest.Signer) *vaulttest.Signer { return own },
		},
		{
			name:   "given signer with issuer",
			config: func() vaulttest.JWTConfig { return vaulttest.JWTConfig{Signer: own, BoundIssuer: "tmplrun"} },
			signer: func(*vaulttest.Signer) *vaulttest.Signer { return own },
		},
	}
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			v := vaulttest.Start(t, vaulttest.Options{})
			v.PutPolicy("web", webPolicy)
			signer := cfg.signer(v.EnableJWT(cfg.config()))
			v.JWTRole("web", vaulttest.JWTRole{
				BoundAudiences: []string{"vault.io"},
				BoundClaims:    map[string]any{"task": "web"},
				Policies:       []string{"web"},
				TokenTTL:       time.Hour,
			})
			good := map[string]any{"iss": "tmplrun", "sub": "task-web", "aud": "vault.io", "task": "web"}
			with := func(k string, val any) map[string]any {
				m := map[string]any{}
				for k, v := range good {
					m[k] = v
				}
				m[k] = val
				return m
			}
			logins := []struct {
				name    string
				jwt     string
				wantErr string // substring; "" for success
			}{
				{name: "bound claim matches", jwt: signer.Sign(good)},
				{name: "wrong claim", jwt: signer.Sign(with("task", "db")), wantErr: "claim"},
				{name: "wrong audience", jwt: signer.Sign(with("aud", "other")), wantErr: "aud"},
				{name: "expired", jwt: signer.Sign(with("exp", time.Now().Add(-time.Hour).Unix())), wantErr: "expired"},
				{name: "untrusted key", jwt: stranger.Sign(good), wantErr: "signature"},
			}
			c := v.Client()
			c.ClearToken()
			for _, l := range logins {
				s, err := c.Logical().Write("auth/jwt/login", map[string]any{"role": "web", "jwt": l.jwt})
				if l.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), l.wantErr) {
						t.Errorf("%s: login err = %v, want one mentioning %q", l.name, err, l.wantErr)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: login: %v", l.name, err)
					continue
				}
				if diff := cmp.Diff([]string{"default", "web"}, s.Auth.Policies); diff != "" {
					t.Errorf("%s: policies (-want +got):\n%s", l.name, diff)
				}
			}
		})
	}
}
