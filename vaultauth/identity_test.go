package vaultauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/template"
)

func mustPEM(t *testing.T, typ string, der []byte, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestSignerKeysAndClaims(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		return mustPEM(t, "PRIVATE KEY", der, err)
	}
	ecDER, ecErr := x509.MarshalECPrivateKey(ec384)

	tests := []struct {
		name    string
		pem     []byte
		alg     string
		pub     crypto.PublicKey
		keyID   string
		wantKID string
	}{
		{"RSA PKCS#1", mustPEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil), "RS256", rsaKey.Public(), "", ""},
		{"RSA PKCS#8", pkcs8(rsaKey), "RS256", rsaKey.Public(), "", ""},
		{"ECDSA P-256 PKCS#8 with key_id", pkcs8(ec256), "ES256", ec256.Public(), "key-1", "key-1"},
		{"ECDSA P-384 SEC 1 after EC PARAMETERS", append(mustPEM(t, "EC PARAMETERS", []byte{6, 5, 43, 129, 4, 0, 34}, nil), mustPEM(t, "EC PRIVATE KEY", ecDER, ecErr)...), "ES384", ec384.Public(), "", ""},
		{"Ed25519", pkcs8(edKey), "EdDSA", edKey.Public(), "", ""},
	}
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "wid.pem")
			if err := os.WriteFile(file, tt.pem, 0o600); err != nil {
				t.Fatal(err)
			}
			id := template.NewIdentity()
			id.SigningKeyFile, id.KeyID = file, tt.keyID
			s, err := NewSigner(id, "node-1")
			if err != nil {
				t.Fatal(err)
			}
			if s.Algorithm() != tt.alg {
				t.Errorf("algorithm %s, want %s", s.Algorithm(), tt.alg)
			}
			wantKID := tt.wantKID
			if wantKID == "" {
				wantKID, _ = thumbprint(tt.pub)
			}
			if s.KeyID() != wantKID {
				t.Errorf("kid %q, want %q", s.KeyID(), wantKID)
			}

			raw, err := s.Sign("web", t0)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tt.alg)})
			if err != nil {
				t.Fatal(err)
			}
			if h := parsed.Headers[0]; h.KeyID != wantKID {
				t.Errorf("kid header %q, want %q", h.KeyID, wantKID)
			}
			// Verify with the public key as Vault would get it: from PEM.
			pubPEM, err := PublicKeyPEM(tt.pem)
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(pubPEM)
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil || block.Type != "PUBLIC KEY" {
				t.Fatalf("public key PEM %q: %v", block.Type, err)
			}
			var std jwt.Claims
			var ours map[string]any
			if err := parsed.Claims(pub, &std, &ours); err != nil {
				t.Fatalf("verify with the derived public key: %v", err)
			}
			if err := std.Validate(jwt.Expected{Issuer: "tmplrun", AnyAudience: jwt.Audience{"vault.io"}, Time: t0.Add(time.Minute)}); err != nil {
				t.Errorf("standard claims: %v", err)
			}
			if std.Subject != "task:web" || std.Expiry.Time().Sub(t0) != time.Hour || std.ID == "" {
				t.Errorf("claims = %+v", std)
			}
			if ours[ClaimTask] != "web" || ours[ClaimNode] != "node-1" {
				t.Errorf("tmplrun claims = %v", ours)
			}
		})
	}
}

func TestSignerRejectsBadKeys(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pem  []byte
		want string
	}{
		{"not PEM", []byte("hello"), "no PEM private key"},
		{"public key only", mustPEM(t, "PUBLIC KEY", []byte{1}, nil), "no PEM private key"},
		{"garbage DER", mustPEM(t, "PRIVATE KEY", []byte{1, 2, 3}, nil), "parse PRIVATE KEY"},
		{"RSA too small", mustPEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small), nil), "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := PublicKeyPEM(tt.pem)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("PublicKeyPEM() error = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		id := template.NewIdentity()
		id.SigningKeyFile = filepath.Join(t.TempDir(), "none.pem")
		if _, err := NewSigner(id, ""); err == nil || !strings.Contains(err.Error(), "none.pem") {
			t.Errorf("NewSigner() error = %v, want one naming the file", err)
		}
	})
}

func TestSignerDefaults(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := newSigner(key, &template.Identity{}, "n")
	if err != nil {
		t.Fatal(err)
	}
	got := []any{s.issuer, s.audience, s.ttl}
	want := []any{"tmplrun", []string{"vault.io"}, time.Hour}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}
