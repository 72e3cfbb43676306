package vaulttest

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hashicorp/go-hclog"
	jwtauth "github.com/hashicorp/vault-plugin-auth-jwt"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/builtin/credential/approle"
	"github.com/hashicorp/vault/builtin/credential/userpass"
	"github.com/hashicorp/vault/builtin/logical/database"
	"github.com/hashicorp/vault/helper/experiments"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical/inmem"
	"github.com/hashicorp/vault/vault"
)

// newCore builds a single Vault core on in-memory storage.
//
// It does what vault.TestCoreUnsealedWithConfig does, except that it
// keeps our BuiltinRegistry (that helper replaces it with a mock whose
// PostgreSQL plugin is a stub) and it does not mount a KV v1 at secret/.
// Unlike vault.NewTestCluster it enables the events.alpha1 experiment
// (NewTestCluster does not copy CoreConfig.Experiments) and starts no TLS
// listeners or cluster port.
func newCore(logger hclog.Logger) (*vault.Core, error) {
	phys, err := inmem.NewInmem(nil, logger)
	if err != nil {
		return nil, err
	}
	return vault.NewCore(&vault.CoreConfig{
		Physical:     phys,
		Logger:       logger,
		DisableMlock: true,
		LogicalBackends: map[string]logical.Factory{
			"kv":       kv.Factory,
			"database": database.Factory,
		},
		CredentialBackends: map[string]logical.Factory{
			"approle":  approle.Factory,
			"jwt":      jwtauth.Factory,
			"userpass": userpass.Factory,
		},
		BuiltinRegistry: newRegistry(),
		Experiments:     []string{experiments.VaultExperimentEventsAlpha1},
	})
}

// initUnseal initialises and unseals core and returns the root token.
func initUnseal(t T, core *vault.Core) (root string, err error) {
	defer func() {
		if r := recover(); r != nil { // RuntimeT's Fatal panics
			err = fmt.Errorf("%v", r)
		}
	}()
	vt := vaultT{t}
	root, _ = vault.TestInitUnsealCore(vt, core)
	vault.TestWaitActive(vt, core)
	return root, nil
}

// handler is Vault's HTTP API for core, as a listener at host serves it.
func handler(core *vault.Core, host string) http.Handler {
	return vaulthttp.Handler.Handler(&vault.HandlerProperties{
		Core: core,
		ListenerConfig: &configutil.Listener{
			Address:            host,
			MaxRequestDuration: vault.DefaultMaxRequestDuration,
		},
	})
}

// handlerTransport serves HTTP requests by calling a handler in memory:
// the harness's own client reaches Vault even while its listener is down,
// and is not counted.
type handlerTransport struct{ h http.Handler }

func (tr handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.RequestURI = req.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:1"
	r.Host = req.URL.Host
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	tr.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
