package vaulttest_test

import (
	"fmt"
	"time"

	gotesting "github.com/mitchellh/go-testing-interface"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// A test starts its own Vault, writes a secret and reads it over HTTP as
// the code under test would. A test passes its *testing.T; this example
// runs as a program would, with go-testing-interface's RuntimeT and an
// explicit Close.
func ExampleStart() {
	v := vaulttest.Start(&gotesting.RuntimeT{}, vaulttest.Options{})
	defer v.Close()

	v.WriteKV("web/config", map[string]any{"greeting": "hello"})
	s, err := v.Client().Logical().Read("secret/data/web/config")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Data["data"].(map[string]any)["greeting"])
	fmt.Println(v.Requests())
	// Output:
	// hello
	// GET secret/data/web/config 1
}

// Task tokens are derived through a token role, as tmplrun does.
func ExampleVault_CreateTokenRole() {
	v := vaulttest.Start(&gotesting.RuntimeT{}, vaulttest.Options{})
	defer v.Close()

	v.PutPolicy("web", `path "secret/data/web/*" { capabilities = ["read"] }`)
	v.CreateTokenRole("tmplrun-task", vaulttest.TokenRole{
		AllowedPolicies: []string{"web"}, Period: time.Hour, Orphan: true,
	})
	token := v.CreateToken(vaulttest.TokenOptions{Role: "tmplrun-task", Policies: []string{"web"}})
	info, _ := v.LookupToken(token)
	fmt.Println(info.Policies, info.Orphan, info.Role)
	// Output:
	// [default web] true tmplrun-task
}

// A JWT signed by a key Vault trusts logs in to a role bound to a claim.
func ExampleVault_EnableJWT() {
	v := vaulttest.Start(&gotesting.RuntimeT{}, vaulttest.Options{})
	defer v.Close()

	signer := v.EnableJWT(vaulttest.JWTConfig{})
	v.JWTRole("web", vaulttest.JWTRole{BoundClaims: map[string]any{"task": "web"}, Policies: []string{"web"}})
	c := v.Client()
	c.ClearToken()
	s, err := c.Logical().Write("auth/jwt/login", map[string]any{
		"role": "web", "jwt": signer.Sign(map[string]any{"sub": "web-1", "task": "web"}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Auth.Policies)
	// Output:
	// [default web]
}

// An outage refuses connections on Vault's address until it is over.
func ExampleVault_Outage() {
	v := vaulttest.Start(&gotesting.RuntimeT{}, vaulttest.Options{})
	defer v.Close()

	back := v.Outage(200 * time.Millisecond)
	_, err := v.Client().Sys().Health()
	fmt.Println("during:", err != nil)
	<-back
	_, err = v.Client().Sys().Health()
	fmt.Println("after:", err == nil)
	// Output:
	// during: true
	// after: true
}

// Vault over HTTPS: a client certificate of the listener's client CA logs
// in with the cert auth method.
func ExampleVault_ServeTLS() {
	v := vaulttest.Start(&gotesting.RuntimeT{}, vaulttest.Options{})
	defer v.Close()

	tls := v.ServeTLS()
	v.CertRole("tmplrun", vaulttest.CertRole{Policies: []string{"web"}})
	cert := tls.ClientCert("tmplrun.node-1")
	c := tls.Client(&cert) // or ca_file = tls.CA.CertFile(), cert_file = cert.CertFile, …
	c.ClearToken()
	s, err := c.Logical().Write("auth/cert/login", map[string]any{"name": "tmplrun"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Auth.Policies, s.Auth.Metadata["common_name"])
	// Output:
	// [default web] tmplrun.node-1
}

// A pod's service-account token logs in with Vault's kubernetes auth
// method, which reviews it with the Kubernetes stand-in.
func ExampleVault_EnableKubernetes() {
	v := vaulttest.Start(&gotesting.RuntimeT{}, vaulttest.Options{})
	defer v.Close()

	k := v.EnableKubernetes(vaulttest.KubernetesConfig{})
	v.KubernetesRole("web", vaulttest.KubernetesRole{
		ServiceAccountNames: []string{"web"}, ServiceAccountNamespaces: []string{"apps"}, Policies: []string{"web"},
	})
	c := v.Client()
	c.ClearToken()
	s, err := c.Logical().Write("auth/kubernetes/login", map[string]any{
		"role": "web", "jwt": k.ServiceAccountToken("apps", "web"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	reviews, _ := k.Reviews()
	fmt.Println(s.Auth.Policies, s.Auth.Metadata["service_account_name"], reviews)
	// Output:
	// [default web] web 1
}
