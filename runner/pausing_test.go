package runner

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"

	"github.com/tmplrun/tmplrun/template"
)

func TestNonRenewableWait(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	const lease = 5 * time.Minute
	tests := []struct {
		name string
		s    dep.Secret
		rnd  float64
		want time.Duration
	}{
		{"a lease: threshold of it", dep.Secret{LeaseID: "x", LeaseDuration: 100}, 0.5, 90 * time.Second},
		{"stagger: -5%", dep.Secret{LeaseID: "x", LeaseDuration: 100}, 0, 85 * time.Second},
		{"stagger: +5%", dep.Secret{LeaseID: "x", LeaseDuration: 100}, 1, 95 * time.Second},
		{"a token: its own lease", dep.Secret{LeaseDuration: 10, Auth: &dep.SecretAuth{LeaseDuration: 3600}}, 0.5, 3240 * time.Second},
		{"no lease: the default lease duration", dep.Secret{}, 0.5, 270 * time.Second},
		{"a certificate without a lease: its expiration",
			dep.Secret{Data: map[string]any{"certificate": "…", "expiration": json.Number("1700000100")}}, 0.5, 90 * time.Second},
		{"an AppRole secret ID: its TTL",
			dep.Secret{Data: map[string]any{"secret_id": "…", "secret_id_ttl": json.Number("99")}}, 0.5, 90 * time.Second},
		{"a rotating secret: its TTL and a second",
			dep.Secret{Data: map[string]any{"rotation_period": json.Number("3600"), "ttl": json.Number("59")}}, 0.5, time.Minute},
	}
	for _, tc := range tests {
		if got := nonRenewableWait(&tc.s, lease, 0.9, tc.rnd, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// selfSigned is a certificate valid from now-10m to now+50m, PEM.
func selfSigned(t *testing.T, now time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "web"},
		NotBefore: now.Add(-10 * time.Minute), NotAfter: now.Add(50 * time.Minute)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestCertWait(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Second)
	cert := selfSigned(t, now)
	if got := certWait(cert, 0.9, now); got != 44*time.Minute {
		t.Errorf("certWait = %v, want 44m (90%% of an hour, 10m of it gone)", got)
	}
	if got := certWait(cert, 0.9, now.Add(time.Hour)); got != 0 {
		t.Errorf("expired: %v, want 0", got)
	}
	if got := certWait("not a pem", 0.9, now); got != 0 {
		t.Errorf("garbage: %v, want 0", got)
	}
}

// TestStopDoesNotWaitForACertificatesLifetime: consul-template's pkiCert
// sleeps until the certificate in the destination is due for renewal, with
// time.Sleep. The runner must stop at once all the same. (The certificate
// on disk is valid: nothing asks Vault, which is not there.)
func TestStopDoesNotWaitForACertificatesLifetime(t *testing.T) {
	t.Parallel()
	cert := selfSigned(t, time.Now())
	cfg := testConfig(t, data("secrets/cert.pem", `{{ with pkiCert "pki/issue/web" "common_name=web" }}{{ .Cert }}{{ end }}`))
	cfg.VaultCluster = &template.VaultCluster{Name: "default", Address: "http://127.0.0.1:1"}
	writeFile(t, filepath.Join(cfg.Dir, "secrets/cert.pem"), cert)
	r := start(t, cfg)
	waitFirst(t, r)
	if got := readFile(t, filepath.Join(cfg.Dir, "secrets/cert.pem")); got != cert {
		t.Errorf("cert.pem = %q", got)
	}
	stopped := make(chan struct{})
	go func() {
		r.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(testTimeout):
		t.Fatal("Stop hangs while pkiCert sleeps")
	}
}
