package vaulttest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hashicorp/go-hclog"
	jwtauth "github.com/hashicorp/vault-plugin-auth-jwt"
	kubeauth "github.com/hashicorp/vault-plugin-auth-kubernetes"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/builtin/credential/approle"
	"github.com/hashicorp/vault/builtin/credential/cert"
	"github.com/hashicorp/vault/builtin/credential/userpass"
	"github.com/hashicorp/vault/builtin/logical/database"
	"github.com/hashicorp/vault/helper/experiments"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical"
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
func newCore(phys physical.Backend, logger hclog.Logger) (*vault.Core, error) {
	return vault.NewCore(&vault.CoreConfig{
		Physical:     phys,
		Logger:       logger,
		DisableMlock: true,
		LogicalBackends: map[string]logical.Factory{
			"kv":       kv.Factory,
			"database": database.Factory,
		},
		CredentialBackends: map[string]logical.Factory{
			"approle":    approle.Factory,
			"cert":       cert.Factory,
			"jwt":        jwtauth.Factory,
			"kubernetes": kubeauth.Factory,
			"userpass":   userpass.Factory,
		},
		BuiltinRegistry: newRegistry(),
		Experiments:     []string{experiments.VaultExperimentEventsAlpha1},
	})
}

// initUnseal initialises and unseals core and returns the root token and
// unseal keys.
func initUnseal(t T, core *vault.Core) (root string, keys [][]byte, err error) {
	defer func() {
		if r := recover(); r != nil { // RuntimeT's Fatal panics
			err = fmt.Errorf("%v", r)
		}
	}()
	vt := vaultT{t}
	root, keys = vault.TestInitUnsealCore(vt, core)
	vault.TestWaitActive(vt, core)
	return root, keys, nil
}

// unseal unseals an initialised core.
func unseal(t T, core *vault.Core, keys [][]byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	for _, k := range keys {
		if _, err := vault.TestCoreUnseal(core, vault.TestKeyCopy(k)); err != nil {
			return fmt.Errorf("unseal: %w", err)
		}
	}
	if core.Sealed() {
		return errors.New("still sealed after every unseal key")
	}
	vault.TestWaitActive(vaultT{t}, core)
	return nil
}

// mountKV mounts KV v2 at secret/ and KV v1 at kv/.
func mountKV(core *vault.Core, root string) error {
	c, err := newClient("http://vaulttest.invalid", root, &http.Client{Transport: handlerTransport{handler(core, "127.0.0.1")}})
	if err != nil {
		return err
	}
	if err := c.Sys().Mount(KV2Mount, &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		return err
	}
	if err := c.Sys().Mount(KV1Mount, &api.MountInput{Type: "kv", Options: map[string]string{"version": "1"}}); err != nil {
		return err
	}
	return waitKV2(c, KV2Mount)
}

// waitKV2 waits until a KV v2 mount has finished its upgrade check and
// serves requests.
func waitKV2(c *api.Client, mount string) error {
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := c.Logical().Read(mount + "/config")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.Join(errors.New("KV v2 mount did not become ready"), err)
		}
		<-tick.C
	}
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
