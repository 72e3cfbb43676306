package vaulttest

import (
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/vault"
)

// The mounts every Vault started by Start has.
const (
	KV2Mount = "secret" // KV version 2
	KV1Mount = "kv"     // KV version 1
)

// Options configure Start. The zero value is what most tests want.
type Options struct {
	// Addr is the host:port Vault listens on. Default "127.0.0.1:0", a free
	// port.
	Addr string
	// RootToken, when set, is the ID of the root token (like
	// `vault server -dev-root-token-id`). Default: a random one.
	RootToken string
	// LogOutput receives Vault's own log. Default: discarded.
	LogOutput io.Writer
	// LogLevel is the level of Vault's log ("trace" … "error"). Default
	// "warn".
	LogLevel string
}

// Vault is a running, unsealed, in-process Vault served over plain HTTP.
// Its methods stop the test with Fatalf when Vault refuses a request.
// They are safe for concurrent use.
//
// The helper methods talk to Vault in memory, not over the listener: they
// work while Vault is down (Down, Outage) and are not counted by
// Requests. Everything else — Client, other processes — goes over HTTP.
type Vault struct {
	// Addr is Vault's address for clients and VAULT_ADDR, e.g.
	// "http://127.0.0.1:38411".
	Addr string
	// RootToken is a root token.
	RootToken string
	// Core is the Vault core itself, for what the HTTP API cannot do.
	Core *vault.Core

	t        T
	server   *server
	counter  *counter
	internal *api.Client

	mu      sync.Mutex
	closers []func() // run in reverse order by Close
	closed  bool
	mounts  map[string]bool // auth and secrets mounts enabled by helpers

	tlsMu sync.Mutex // held while ServeTLS starts the HTTPS listener
	tls   *TLSServer // nil until ServeTLS

	pgMu   sync.Mutex // held while PostgreSQL starts
	pg     *Postgres
	dbMu   sync.Mutex // held while the database engine is set up
	dbDone bool
}

// Start starts a Vault for t and stops it when t's test ends (t.Cleanup).
// It has KV version 2 mounted at secret/ and KV version 1 at kv/, the
// events.alpha1 experiment enabled, and the approle, jwt, userpass auth
// methods and the database secrets engine (with the real PostgreSQL
// plugin) available to enable.
//
// Every Vault of a process after the first starts from a copy of the
// first one's freshly set-up storage: they share its root token (unless
// Options.RootToken), unseal keys and mount accessors, not their data.
func Start(t T, opts Options) *Vault {
	t.Helper()
	v, err := start(t, opts)
	if err != nil {
		t.Fatalf("vaulttest: start Vault: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

func start(t T, opts Options) (*Vault, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, err
	}
	core, root, err := unsealedCore(t, newLogger(opts))
	if err != nil {
		return nil, err
	}
	v := &Vault{Core: core, RootToken: root, t: t, mounts: map[string]bool{}}
	v.closers = append(v.closers, func() { _ = core.ShutdownWait() })

	h := handler(core, host)
	v.internal, err = newClient("http://vaulttest.invalid", root, &http.Client{Transport: handlerTransport{h}})
	if err == nil {
		err = waitKV2(v.internal, KV2Mount)
	}
	if err == nil && opts.RootToken != "" {
		err = v.setRootToken(opts.RootToken)
	}
	if err != nil {
		v.Close()
		return nil, err
	}
	v.counter = newCounter(h)
	v.server = newServer(v.counter)
	if err := v.server.listen(opts.Addr); err != nil {
		v.Close()
		return nil, err
	}
	v.closers = append(v.closers, v.server.close)
	v.Addr = "http://" + v.server.addr
	return v, nil
}

func (v *Vault) setRootToken(id string) error {
	old := v.internal.Token()
	_, err := v.internal.Auth().Token().Create(&api.TokenCreateRequest{
		ID: id, Policies: []string{"root"}, NoParent: true, DisplayName: "root",
	})
	if err != nil {
		return err
	}
	v.internal.SetToken(id)
	if err := v.internal.Auth().Token().RevokeOrphan(old); err != nil {
		return err
	}
	v.RootToken = id
	return nil
}

// Client returns a new API client for Vault over HTTP, with the root
// token. Its requests are counted by Requests. It does not retry.
func (v *Vault) Client() *api.Client {
	v.t.Helper()
	c, err := newClient(v.Addr, v.RootToken, nil)
	if err != nil {
		v.t.Fatalf("vaulttest: client: %v", err)
	}
	return c
}

func newClient(addr, token string, hc *http.Client) (*api.Client, error) {
	return newTLSClient(addr, token, hc, nil)
}

// newTLSClient is newClient with TLS settings (none when tc is nil).
func newTLSClient(addr, token string, hc *http.Client, tc *api.TLSConfig) (*api.Client, error) {
	conf := api.DefaultConfig()
	if conf.Error != nil {
		return nil, conf.Error
	}
	conf.Address = addr
	conf.MaxRetries = 0
	if hc != nil {
		conf.HttpClient = hc
	}
	if tc != nil {
		if err := conf.ConfigureTLS(tc); err != nil {
			return nil, err
		}
	}
	c, err := api.NewClient(conf)
	if err != nil {
		return nil, err
	}
	c.SetToken(token)
	c.ClearNamespace()
	return c, nil
}

// Close stops Vault and everything the harness started for it. Start
// arranges for it to run at the end of the test; programs call it
// themselves. It may be called more than once.
func (v *Vault) Close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	v.closed = true
	closers := v.closers
	v.closers = nil
	v.mu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
}

// onClose registers f to run at Close, before what was registered earlier.
func (v *Vault) onClose(f func()) {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		f()
		return
	}
	v.closers = append(v.closers, f)
	v.mu.Unlock()
}

// onCloseLast registers f to run at Close, after everything else.
func (v *Vault) onCloseLast(f func()) {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		f()
		return
	}
	v.closers = append([]func(){f}, v.closers...)
	v.mu.Unlock()
}

func newLogger(opts Options) hclog.Logger {
	out := opts.LogOutput
	if out == nil {
		out = io.Discard
	}
	level := hclog.Warn
	if opts.LogLevel != "" {
		level = hclog.LevelFromString(opts.LogLevel)
	}
	return hclog.New(&hclog.LoggerOptions{Name: "vault", Output: out, Level: level})
}
