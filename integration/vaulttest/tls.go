package vaulttest

import (
	"crypto/tls"
	"net"
	"os"
	"sync/atomic"

	"github.com/hashicorp/vault/api"
)

// TLSServer is the same Vault (same data, tokens, request count, outage
// switch) served over HTTPS on a second loopback address, with a
// certificate of its own CA. It asks clients for a certificate but does
// not require one: Vault's cert auth method checks it (CertRole).
type TLSServer struct {
	// Addr is the HTTPS address, e.g. "https://127.0.0.1:38412".
	Addr string
	// CA signed the server certificate, which is valid for 127.0.0.1,
	// ::1 and localhost: a client trusts it with ca_file = CA.CertFile().
	CA *CA
	// ClientCA issues client certificates (ClientCert). CertRole trusts
	// it unless told otherwise.
	ClientCA *CA

	v      *Vault
	server *server
	cert   atomic.Pointer[tls.Certificate]
}

// ServeTLS serves Vault over HTTPS too, on a free port of Vault's host,
// until Close, and returns that listener. Later calls return the same
// one. Down, Up and Outage take it down and up with the HTTP listener.
func (v *Vault) ServeTLS() *TLSServer {
	v.t.Helper()
	v.tlsMu.Lock()
	defer v.tlsMu.Unlock()
	if v.tls != nil {
		return v.tls
	}
	dir, err := os.MkdirTemp("", "vaulttest-tls-")
	if err != nil {
		v.t.Fatalf("vaulttest: ServeTLS: %v", err)
	}
	v.onCloseLast(func() { _ = os.RemoveAll(dir) })
	s := &TLSServer{v: v}
	if s.CA, err = newCA(v.t, "vaulttest server CA", dir); err != nil {
		v.t.Fatalf("vaulttest: ServeTLS: %v", err)
	}
	if s.ClientCA, err = newCA(v.t, "vaulttest client CA", dir); err != nil {
		v.t.Fatalf("vaulttest: ServeTLS: %v", err)
	}
	if err := s.start(v); err != nil {
		v.t.Fatalf("vaulttest: ServeTLS: %v", err)
	}
	v.tls = s
	return s
}

func (s *TLSServer) start(v *Vault) error {
	v.t.Helper()
	c := s.CA.ServerCert("127.0.0.1", "::1", "localhost")
	s.cert.Store(&c.TLS)
	s.server = newServer(v.counter)
	s.server.tlsConfig = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.cert.Load(), nil
		},
		// As a Vault listener without tls_require_and_verify_client_cert:
		// a client certificate is asked for, and checked by cert auth.
		ClientAuth: tls.RequestClientCert,
	}
	host, _, err := net.SplitHostPort(v.server.addr)
	if err != nil {
		return err
	}
	if err := s.server.listen(net.JoinHostPort(host, "0")); err != nil {
		return err
	}
	if !v.server.isUp() {
		s.server.down()
	}
	v.onClose(s.server.close)
	s.Addr = "https://" + s.server.addr
	return nil
}

// ClientCert issues a client certificate with common name cn from
// ClientCA.
func (s *TLSServer) ClientCert(cn string) Certificate {
	s.v.t.Helper()
	return s.ClientCA.ClientCert(cn)
}

// SetCertificate makes the listener present c from the next handshake on
// and cuts open connections, so that the next request sees it: give it
// a certificate of another CA to make clients fail to verify Vault, and
// s.CA.ServerCert(...) to make them succeed again. It ends a pending
// Outage of this listener early.
func (s *TLSServer) SetCertificate(c Certificate) {
	s.v.t.Helper()
	s.cert.Store(&c.TLS)
	if !s.server.isUp() {
		return
	}
	s.server.down()
	if err := s.server.up(); err != nil {
		s.v.t.Fatalf("vaulttest: TLS listener up again: %v", err)
	}
}

// Client returns a new API client for Vault over HTTPS with the root
// token, trusting CA and presenting cert when it is not nil. It does not
// retry.
func (s *TLSServer) Client(cert *Certificate) *api.Client {
	s.v.t.Helper()
	tc := &api.TLSConfig{CACert: s.CA.CertFile()}
	if cert != nil {
		tc.ClientCert, tc.ClientKey = cert.CertFile, cert.KeyFile
	}
	c, err := newTLSClient(s.Addr, s.v.RootToken, nil, tc)
	if err != nil {
		s.v.t.Fatalf("vaulttest: TLS client: %v", err)
	}
	return c
}
