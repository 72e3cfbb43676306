package vaulttest_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/vault/api"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// The same Vault over HTTPS: its data, its tokens, its request count; a
// client that does not trust the CA, or asks for another name, fails the
// handshake.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.WriteKV("web/config", map[string]any{"greeting": "hello"})
	s := v.ServeTLS()
	if again := v.ServeTLS(); again != s {
		t.Error("a second ServeTLS started another listener")
	}
	if !strings.HasPrefix(s.Addr, "https://127.0.0.1:") || s.Addr == strings.Replace(v.Addr, "http:", "https:", 1) {
		t.Errorf("Addr = %q, want an HTTPS address of its own (HTTP is %s)", s.Addr, v.Addr)
	}
	v.ResetRequests()
	c := s.Client(nil)
	if got := readKV2(t, c, "web/config"); got["greeting"] != "hello" {
		t.Errorf("over HTTPS: %v", got)
	}
	if n := v.Requests().Reads("secret/data/web/config"); n != 1 {
		t.Errorf("%d reads counted, want the HTTPS one", n)
	}

	tests := []struct {
		name string
		conf api.TLSConfig
		want any // the error type errors.As must find
	}{
		{"unknown CA", api.TLSConfig{CACert: vaulttest.NewCA(t, "other").CertFile()}, new(x509.UnknownAuthorityError)},
		{"system roots only", api.TLSConfig{}, new(*tls.CertificateVerificationError)},
		{"wrong server name", api.TLSConfig{CACert: s.CA.CertFile(), TLSServerName: "vault.other.example"}, new(x509.HostnameError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := api.DefaultConfig()
			conf.Address, conf.MaxRetries = s.Addr, 0
			if err := conf.ConfigureTLS(&tt.conf); err != nil {
				t.Fatal(err)
			}
			c, err := api.NewClient(conf)
			if err != nil {
				t.Fatal(err)
			}
			c.SetToken(v.RootToken)
			_, err = c.Auth().Token().LookupSelf()
			if err == nil || !errors.As(err, tt.want) {
				t.Errorf("LookupSelf() = %v, want a %T", err, tt.want)
			}
		})
	}
}

// SetCertificate swaps the certificate from the next request on; Down
// and Up take the HTTPS listener with them.
func TestServeTLSCertificateAndOutage(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	s := v.ServeTLS()
	c := s.Client(nil)
	if _, err := c.Auth().Token().LookupSelf(); err != nil {
		t.Fatal(err)
	}
	s.SetCertificate(vaulttest.NewCA(t, "impostor").ServerCert("127.0.0.1"))
	var unknown x509.UnknownAuthorityError
	if _, err := c.Auth().Token().LookupSelf(); !errors.As(err, &unknown) {
		t.Errorf("with a certificate of another CA: %v, want unknown authority", err)
	}
	s.SetCertificate(s.CA.ServerCert("127.0.0.1"))
	if _, err := c.Auth().Token().LookupSelf(); err != nil {
		t.Errorf("with the CA's certificate again: %v", err)
	}

	v.Down()
	if _, err := c.Auth().Token().LookupSelf(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("HTTPS while down: %v, want connection refused", err)
	}
	<-v.Outage(100 * time.Millisecond)
	if _, err := c.Auth().Token().LookupSelf(); err != nil {
		t.Errorf("HTTPS after the outage: %v", err)
	}
}

// Vault's cert auth method: a client certificate of the trusted CA logs
// in (and renews) over HTTPS; one of another CA, one with a common name
// the role does not allow, and none at all are refused.
func TestCertRole(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("web", webPolicy)
	s := v.ServeTLS()
	v.CertRole("tmplrun", vaulttest.CertRole{
		AllowedCommonNames: []string{"tmplrun.*"},
		Policies:           []string{"web"},
		TokenPeriod:        time.Hour,
	})
	good := s.ClientCert("tmplrun.node-1")
	other := vaulttest.NewCA(t, "other").ClientCert("tmplrun.node-1")
	wrongName := s.ClientCert("intruder")

	tests := []struct {
		name    string
		cert    *vaulttest.Certificate
		wantErr string
	}{
		{"trusted certificate", &good, ""},
		{"another CA", &other, "invalid certificate"},
		{"common name not allowed", &wrongName, "no chain matching all constraints"},
		{"no certificate", nil, "client certificate must be supplied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.Client(tt.cert)
			c.ClearToken()
			sec, err := c.Logical().Write("auth/cert/login", map[string]any{"name": "tmplrun"})
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
			c.SetToken(sec.Auth.ClientToken)
			if _, err := c.Auth().Token().RenewSelf(0); err != nil {
				t.Errorf("renew with the certificate: %v", err)
			}
			if _, err := v.Client().Logical().Write("auth/token/renew", map[string]any{"token": sec.Auth.ClientToken}); err == nil {
				t.Error("renewed over plain HTTP, without the certificate")
			}
		})
	}
}
