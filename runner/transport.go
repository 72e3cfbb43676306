package runner

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"

	"github.com/tmplrun/tmplrun/template"
)

// Connections to Vault are shared by every runner of the process that
// reaches the same Vault with the same TLS settings.
//
// consul-template's CreateVaultClient builds a new http.Transport for
// every client set, and each transport keeps its own connections: with
// one client set per task, 1,000 tasks held about 3,000 connections to
// Vault — two goroutines and 8 KB of buffers each on our side, and as
// much again on Vault's — although a task polls a few secrets every few
// minutes. Requests carry their token (and namespace) in their own
// headers, so one pool serves every task: the transport consul-template
// built for a runner is kept only to route its requests (RegisterProtocol)
// to the runner's round tripper over the shared transport.
const (
	// Idle connections kept open: enough for the requests of many tasks
	// spread over their re-read periods; a burst (a first render) opens
	// more, which are closed once idle beyond this many.
	sharedMaxIdleConns = 8
	// Idle connections are closed after this long (as before).
	sharedIdleConnTimeout = vaultIdleConnTimeout
)

// transportKey is what makes two runners' transports interchangeable:
// Vault's scheme and host, and the TLS settings — files by path and by
// content, so that a rotated client certificate gets a new transport.
type transportKey struct {
	scheme, host              string
	caFile, certFile, keyFile string
	serverName                string
	skipVerify                bool
	caSum, certSum, keySum    [sha256.Size]byte
	caErr, certErr, keyErr    string
}

// vaultConn is what runners reaching the same Vault share: the
// connections and the mount lookups' answers (see mountCache).
type vaultConn struct {
	tr     *http.Transport
	mounts *mountCache
}

var sharedConns = struct {
	mu sync.Mutex
	m  map[transportKey]vaultConn
}{m: map[transportKey]vaultConn{}}

func keyOf(vc *template.VaultCluster, u *url.URL) transportKey {
	k := transportKey{
		scheme: u.Scheme, host: u.Host,
		caFile: vc.CAFile, certFile: vc.CertFile, keyFile: vc.KeyFile,
		serverName: vc.TLSServerName, skipVerify: vc.TLSSkipVerify,
	}
	k.caSum, k.caErr = fileSum(vc.CAFile)
	k.certSum, k.certErr = fileSum(vc.CertFile)
	k.keySum, k.keyErr = fileSum(vc.KeyFile)
	return k
}

func fileSum(path string) ([sha256.Size]byte, string) {
	if path == "" {
		return [sha256.Size]byte{}, ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return [sha256.Size]byte{}, err.Error()
	}
	return sha256.Sum256(b), ""
}

// sharedConn returns the process's connection to the Vault of key, its
// transport made from own (consul-template's transport for this runner,
// built from the same settings) the first time.
func sharedConn(key transportKey, own *http.Transport) vaultConn {
	sharedConns.mu.Lock()
	defer sharedConns.mu.Unlock()
	if c, ok := sharedConns.m[key]; ok {
		return c
	}
	tr := own.Clone()
	tr.MaxIdleConns = sharedMaxIdleConns
	tr.MaxIdleConnsPerHost = sharedMaxIdleConns
	tr.IdleConnTimeout = sharedIdleConnTimeout
	c := vaultConn{tr: tr, mounts: &mountCache{now: time.Now}}
	sharedConns.m[key] = c
	return c
}

// ownTransport is the transport consul-template built for the client
// set's Vault client (kept private; its http.Client is copied by
// CloneConfig, its transport is not).
func ownTransport(clients *dep.ClientSet) (*http.Transport, error) {
	own, ok := clients.Vault().CloneConfig().HttpClient.Transport.(*http.Transport)
	if !ok {
		return nil, errors.New("vault client: unexpected transport type")
	}
	return own, nil
}

// route makes own hand every request, of both schemes, to rt.
func route(own *http.Transport, rt http.RoundTripper) {
	own.RegisterProtocol("http", rt)
	own.RegisterProtocol("https", rt)
}
