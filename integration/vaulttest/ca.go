package vaulttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// CA is a certificate authority of the test: it issues server and client
// certificates (ECDSA P-256, valid for a day) and writes them, with their
// keys, to files a client configuration can name.
type CA struct {
	t    T
	name string
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pem  string
	dir  string

	mu     sync.Mutex
	serial int64
}

// NewCA makes a certificate authority named name; its files are removed
// when t's test ends (a program using RuntimeT removes them itself, or
// leaves them in the temporary directory).
func NewCA(t T, name string) *CA {
	t.Helper()
	dir, err := os.MkdirTemp("", "vaulttest-ca-")
	if err != nil {
		t.Fatalf("vaulttest: CA %s: %v", name, err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	ca, err := newCA(t, name, dir)
	if err != nil {
		t.Fatalf("vaulttest: CA %s: %v", name, err)
	}
	return ca
}

func newCA(t T, name, dir string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &CA{t: t, name: name, key: key, cert: cert, dir: dir, serial: 1,
		pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
	if err := os.WriteFile(ca.CertFile(), []byte(ca.pem), 0o600); err != nil {
		return nil, err
	}
	return ca, nil
}

// Name is the CA's common name.
func (ca *CA) Name() string { return ca.name }

// CertPEM is the CA's certificate, PEM-encoded: what a client's ca_file
// holds, or what Vault's cert auth method trusts.
func (ca *CA) CertPEM() string { return ca.pem }

// CertFile is a file holding CertPEM.
func (ca *CA) CertFile() string { return filepath.Join(ca.dir, fileName(ca.name)+"-ca.pem") }

// Certificate is a certificate the CA issued and its key, in memory and
// in files.
type Certificate struct {
	// CertFile and KeyFile hold CertPEM and KeyPEM (0600).
	CertFile, KeyFile string
	CertPEM, KeyPEM   string
	// TLS is the certificate for a tls.Config.
	TLS tls.Certificate
}

// ClientCert issues a client certificate with the common name cn.
func (ca *CA) ClientCert(cn string) Certificate {
	ca.t.Helper()
	c, err := ca.issue(cn, nil, x509.ExtKeyUsageClientAuth)
	if err != nil {
		ca.t.Fatalf("vaulttest: CA %s: client certificate %s: %v", ca.name, cn, err)
	}
	return c
}

// ServerCert issues a server certificate for hosts (IP addresses or DNS
// names); the first one is the common name.
func (ca *CA) ServerCert(hosts ...string) Certificate {
	ca.t.Helper()
	if len(hosts) == 0 {
		ca.t.Fatalf("vaulttest: CA %s: a server certificate needs a host", ca.name)
	}
	c, err := ca.issue(hosts[0], hosts, x509.ExtKeyUsageServerAuth)
	if err != nil {
		ca.t.Fatalf("vaulttest: CA %s: server certificate %v: %v", ca.name, hosts, err)
	}
	return c
}

func (ca *CA) issue(cn string, hosts []string, usage x509.ExtKeyUsage) (Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Certificate{}, err
	}
	ca.mu.Lock()
	ca.serial++
	serial := ca.serial
	ca.mu.Unlock()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return Certificate{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Certificate{}, err
	}
	c := Certificate{
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}
	if c.TLS, err = tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM)); err != nil {
		return Certificate{}, err
	}
	base := filepath.Join(ca.dir, fmt.Sprintf("%s-%d", fileName(cn), serial))
	c.CertFile, c.KeyFile = base+".pem", base+"-key.pem"
	if err := os.WriteFile(c.CertFile, []byte(c.CertPEM), 0o600); err != nil {
		return Certificate{}, err
	}
	if err := os.WriteFile(c.KeyFile, []byte(c.KeyPEM), 0o600); err != nil {
		return Certificate{}, err
	}
	return c, nil
}

// fileName makes s safe as a file name.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, s)
}
