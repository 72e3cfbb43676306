package vaultauth

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/vault/api"

	"github.com/tmplrun/tmplrun/template"
)

// EnvAddress and EnvToken are the only environment variables vaultauth
// reads (through Options.Getenv), and only for tmplrun's own login.
const (
	EnvAddress   = "VAULT_ADDR"
	EnvToken     = "VAULT_TOKEN"
	EnvNamespace = "VAULT_NAMESPACE" // set in a task's environment, never read
)

// apiConfig builds the Vault client configuration of cluster c: the
// address (else $VAULT_ADDR, else https://127.0.0.1:8200), TLS from the
// block's files, no client-side retries (the schedule retries, with
// backoff), and a per-request timeout.
//
// vault/api's DefaultConfig reads a dozen VAULT_* variables; every value
// it may have taken from them is overwritten here, so the vault block and
// Options.Getenv are the only inputs.
func apiConfig(c *template.VaultCluster, o Options) (*api.Config, error) {
	addr := c.Address
	if addr == "" {
		addr = o.Getenv(EnvAddress)
	}
	if addr == "" {
		addr = api.DefaultAddress
	}
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("vault client: %w", cfg.Error)
	}
	tr := cleanhttp.DefaultPooledTransport()
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	cfg.HttpClient = &http.Client{
		Transport: tr,
		// Vault's client follows redirects itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	cfg.Address = addr
	cfg.AgentAddress = ""
	cfg.MaxRetries = 0
	cfg.Timeout = o.Timeout
	cfg.Limiter = nil
	cfg.SRVLookup = false
	cfg.DisableRedirects = false
	err := cfg.ConfigureTLS(&api.TLSConfig{
		CACert:        c.CAFile,
		ClientCert:    c.CertFile,
		ClientKey:     c.KeyFile,
		TLSServerName: c.TLSServerName,
		Insecure:      c.TLSSkipVerify,
	})
	if err != nil {
		return nil, fmt.Errorf("vault TLS: %w", err)
	}
	if o.WrapTransport != nil {
		cfg.HttpClient.Transport = o.WrapTransport(tr)
	}
	return cfg, nil
}

// newClient is a client on cfg that uses token (none when "") in
// namespace ns (the root namespace when ""), whatever VAULT_TOKEN and
// VAULT_NAMESPACE say.
func newClient(cfg *api.Config, token, ns string) (*api.Client, error) {
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	c.ClearToken()
	if token != "" {
		c.SetToken(token)
	}
	c.ClearNamespace()
	if ns != "" {
		c.SetNamespace(ns)
	}
	return c, nil
}
