// Package vaulttest runs a real Vault 1.14.1 inside the test process and
// serves it over plain HTTP (and, with ServeTLS, HTTPS) on 127.0.0.1, for
// tests, benchmarks and programs (vault-dev) in the integration module.
//
// One call starts an unsealed Vault with KV version 2 at secret/ and KV
// version 1 at kv/; it stops when the test ends:
//
//	v := vaulttest.Start(t, vaulttest.Options{})
//	v.WriteKV("web/config", map[string]any{"greeting": "hello"})
//	client := v.Client() // over HTTP, root token; or use v.Addr and v.RootToken
//	secret, err := client.Logical().Read("secret/data/web/config")
//
// Further one-call helpers set up what a test needs: policies and token
// roles (PutPolicy, CreateTokenRole), tokens (CreateToken, LookupToken,
// RevokeToken), AppRole (AppRole, NewSecretID), JWT auth with a key the
// test signs with or one it brings (EnableJWT, JWTRole, Signer), dynamic
// PostgreSQL credentials with real leases (DatabaseRole, Postgres), an
// outage on the same address (Down, Up, Outage), a count of the requests
// Vault served (Requests) and event subscriptions (Subscribe). ServeTLS
// serves the same Vault over HTTPS with a CA of its own and issues client
// certificates, for the TLS certificate auth method (CertRole);
// EnableKubernetes enables Vault's kubernetes auth plugin with a stand-in
// for the Kubernetes TokenReview API (Kubernetes.ServiceAccountToken).
//
// Helpers talk to Vault in memory: they work during an outage and are
// not counted. Everything else, including other processes given Addr,
// uses the HTTP listener. A helper that Vault refuses stops the test.
//
// The first Vault of a process is set up from scratch (about 0.3 s, most
// of it generating RSA keys for Vault's identity store); later ones start
// from a copy of its storage in a few tens of milliseconds.
//
// What Vault 1.14.1 cannot do in-process here: PKI and transit (they do
// not compile against the vault/sdk versions the module proxy serves), so
// pkiCert templates cannot be tested against this Vault. See
// integration/README.md for what was found about events.
package vaulttest
