package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"
	vaultapi "github.com/hashicorp/vault/api"
	"golang.org/x/time/rate"

	"github.com/tmplrun/tmplrun/template"
)

// vaultClientTimeout bounds one request to Vault.
const vaultClientTimeout = 60 * time.Second

// vaultIdleConnTimeout is how long an idle connection to Vault is kept.
const vaultIdleConnTimeout = 90 * time.Second

// newClientSet builds the consul-template client set a runner's
// dependencies fetch through: a Vault client only (Consul and Nomad
// functions are disabled, see template.UnsupportedFunctions). consul-template's
// CreateVaultClient starts from vaultapi.DefaultConfig and NewClient, which
// read VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_HEADERS,
// VAULT_MAX_RETRIES… from tmplrun's own environment; every one of those is
// overwritten here with the task's explicit settings, so nothing of the
// process environment reaches a task's requests. Request outcomes are
// observed by obs through the client's retry check.
//
// Its requests go over the process's shared transport for this Vault (see
// transport.go) through a taskTransport, and end when stop is done.
func newClientSet(vc *template.VaultCluster, namespace, token string, obs *vaultObserver, stop context.Context) (*dep.ClientSet, error) {
	addr := strings.TrimSpace(vc.Address)
	if addr == "" {
		return nil, errors.New("vault address is empty (the caller resolves $VAULT_ADDR)")
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("vault address: %w", err)
	}
	tls := u.Scheme == "https" || vc.CAFile != "" || vc.CertFile != "" || vc.TLSServerName != ""
	clients := dep.NewClientSet()
	if err := clients.CreateVaultClient(&dep.CreateVaultClientInput{
		Address:    addr,
		Namespace:  namespace,
		Token:      token,
		SSLEnabled: tls,
		SSLVerify:  !vc.TLSSkipVerify,
		SSLCert:    vc.CertFile,
		SSLKey:     vc.KeyFile,
		SSLCACert:  vc.CAFile,
		ServerName: vc.TLSServerName,
		// Keep connections to Vault open between polls.
		TransportDialKeepAlive:       30 * time.Second,
		TransportDialTimeout:         10 * time.Second,
		TransportIdleConnTimeout:     vaultIdleConnTimeout,
		TransportMaxIdleConns:        4,
		TransportMaxIdleConnsPerHost: 4,
		TransportTLSHandshakeTimeout: 10 * time.Second,
	}); err != nil {
		return nil, err
	}
	own, err := ownTransport(clients)
	if err != nil {
		return nil, err
	}
	route(own, newTaskTransport(sharedConn(keyOf(vc, u), own), stop))
	c := clients.Vault()
	if err := c.SetAddress(addr); err != nil { // over VAULT_AGENT_ADDR
		return nil, err
	}
	if token != "" {
		c.SetToken(token)
	} else {
		c.ClearToken() // over VAULT_TOKEN
	}
	h := http.Header{}
	h.Set(vaultapi.RequestHeaderName, "true")
	c.SetHeaders(h) // over VAULT_HEADERS; before the namespace, a header too
	if namespace != "" {
		c.SetNamespace(namespace)
	} else {
		c.ClearNamespace() // over VAULT_NAMESPACE
	}
	// One retry layer only: vault_retry, in our dependencies.
	c.SetMaxRetries(0)
	c.SetClientTimeout(vaultClientTimeout)
	c.SetSRVLookup(false)
	if c.Limiter() != nil { // VAULT_RATE_LIMIT
		c.SetLimiter(float64(rate.Inf), 0)
	}
	if obs != nil {
		c.SetCheckRetry(obs.check)
	}
	return clients, nil
}

// vaultState is what the runner knows of Vault's reachability.
type vaultState int

const (
	vaultUnknown vaultState = iota
	vaultReachable
	vaultUnreachable
)

// vaultObserver watches every HTTP attempt the task's Vault client makes
// (through the client's CheckRetry hook, which sees each response or
// transport error) and keeps counters and reachability. It never blocks:
// a change of reachability pokes the runner's loop through nudge.
type vaultObserver struct {
	requests atomic.Uint64
	errors   atomic.Uint64
	nudge    func()
	// refused, when set, hears of every 403: Vault refused the token (it
	// may have been revoked) or the policy denies the path.
	refused func()

	mu      sync.Mutex
	state   vaultState
	since   time.Time
	lastErr string
	now     func() time.Time
}

func newVaultObserver(now func() time.Time, nudge func()) *vaultObserver {
	return &vaultObserver{now: now, nudge: nudge}
}

// check is a retryablehttp.CheckRetry: it records the attempt, then defers
// to Vault's own policy (which never retries here: MaxRetries is 0).
func (o *vaultObserver) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, rerr := vaultapi.DefaultRetryPolicy(ctx, resp, err)
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return retry, rerr // stopping (see taskTransport), not an outage
	}
	if resp != nil && resp.Header.Get(cachedHeader) != "" {
		return retry, rerr // answered by the mount cache: no request reached Vault
	}
	o.requests.Add(1)
	switch {
	case err != nil:
		o.errors.Add(1)
		o.set(vaultUnreachable, transportError(err))
	case resp.StatusCode >= 500:
		o.errors.Add(1)
		o.set(vaultUnreachable, fmt.Sprintf("HTTP %d from %s", resp.StatusCode, resp.Request.URL.Path))
	case resp.StatusCode >= 400:
		o.errors.Add(1)
		o.set(vaultReachable, "")
		if resp.StatusCode == http.StatusForbidden && o.refused != nil {
			o.refused()
		}
	default:
		o.set(vaultReachable, "")
	}
	return retry, rerr
}

func (o *vaultObserver) set(s vaultState, msg string) {
	o.mu.Lock()
	changed := o.state != s
	if changed {
		o.state = s
		o.since = o.now()
	}
	if msg != "" {
		o.lastErr = msg
	}
	o.mu.Unlock()
	if changed && o.nudge != nil {
		o.nudge()
	}
}

func (o *vaultObserver) snapshot() (vaultState, time.Time, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state, o.since, o.lastErr
}

// transportError shortens a transport error to its cause, without the
// request URL's query.
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
