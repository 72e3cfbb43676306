package vaultauth

import (
	"net/http"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/tmplrun/tmplrun/template"
)

func mustConfig(t *testing.T) *api.Config {
	t.Helper()
	cfg, err := apiConfig(&template.VaultCluster{Address: "http://127.0.0.1:1"}, Options{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Only VAULT_ADDR (through Getenv) is read; the VAULT_* variables vault/api
// would read by itself are ignored. Not parallel: it sets the environment.
func TestAPIConfigIgnoresTheEnvironment(t *testing.T) {
	t.Setenv("VAULT_SKIP_VERIFY", "true")
	t.Setenv("VAULT_MAX_RETRIES", "7")
	t.Setenv("VAULT_AGENT_ADDR", "http://agent:8100")
	t.Setenv("VAULT_TOKEN", "s.from-env")
	t.Setenv("VAULT_NAMESPACE", "from-env")

	env := map[string]string{"VAULT_ADDR": "http://vault.example:8200"}
	o := Options{Getenv: func(k string) string { return env[k] }}.withDefaults()
	cfg, err := apiConfig(&template.VaultCluster{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address != "http://vault.example:8200" || cfg.AgentAddress != "" || cfg.MaxRetries != 0 {
		t.Errorf("address %q, agent %q, retries %d", cfg.Address, cfg.AgentAddress, cfg.MaxRetries)
	}
	if cfg.TLSConfig().InsecureSkipVerify {
		t.Error("VAULT_SKIP_VERIFY from the environment was honoured")
	}
	c, err := newClient(cfg, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Token() != "" || c.Namespace() != "" {
		t.Errorf("client took token %q / namespace %q from the environment", c.Token(), c.Namespace())
	}
	c, err = newClient(cfg, "s.mine", "team")
	if err != nil {
		t.Fatal(err)
	}
	if c.Token() != "s.mine" || c.Namespace() != "team" {
		t.Errorf("client token %q / namespace %q, want s.mine / team", c.Token(), c.Namespace())
	}

	cfg, err = apiConfig(&template.VaultCluster{Address: "https://block:8200", TLSSkipVerify: true}, o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address != "https://block:8200" || !cfg.TLSConfig().InsecureSkipVerify {
		t.Errorf("the block's address and tls_skip_verify must win")
	}
	env = nil
	if cfg, _ = apiConfig(&template.VaultCluster{}, o); cfg.Address != api.DefaultAddress {
		t.Errorf("no address anywhere: %q, want %q", cfg.Address, api.DefaultAddress)
	}
}

func TestAPIConfigWrapTransportAndTLSErrors(t *testing.T) {
	t.Parallel()
	wrapped := false
	o := Options{WrapTransport: func(rt http.RoundTripper) http.RoundTripper { wrapped = true; return rt }}.withDefaults()
	if _, err := apiConfig(&template.VaultCluster{Address: "http://x"}, o); err != nil || !wrapped {
		t.Errorf("apiConfig() = %v, wrapped %v", err, wrapped)
	}
	if _, err := apiConfig(&template.VaultCluster{Address: "http://x", CAFile: "/nonexistent/ca.pem"}, o); err == nil {
		t.Error("a missing ca_file must be an error")
	}
	if _, err := apiConfig(&template.VaultCluster{Address: "http://x", CertFile: "c.pem"}, o); err == nil {
		t.Error("cert_file without key_file must be an error")
	}
}
