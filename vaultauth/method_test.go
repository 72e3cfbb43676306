package vaultauth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tmplrun/tmplrun/template"
)

func TestNewMethodChecksTheAuthBlock(t *testing.T) {
	t.Parallel()
	withCert := &template.VaultCluster{CertFile: "c.pem", KeyFile: "k.pem"}
	tests := []struct {
		name    string
		auth    *template.Auth
		cluster *template.VaultCluster
		want    string // error substring; "" = ok
	}{
		{"no auth block: token", nil, &template.VaultCluster{}, ""},
		{"token", &template.Auth{Method: "token"}, &template.VaultCluster{}, ""},
		{"approle", &template.Auth{Method: "approle", RoleIDFile: "r", SecretIDFile: "s"}, &template.VaultCluster{}, ""},
		{"approle without secret_id_file (bind_secret_id = false)", &template.Auth{Method: "approle", RoleIDFile: "r"}, &template.VaultCluster{}, ""},
		{"approle without role_id_file", &template.Auth{Method: "approle", SecretIDFile: "s"}, &template.VaultCluster{}, "role_id_file"},
		{"jwt", &template.Auth{Method: "jwt", Path: "p", Role: "r"}, &template.VaultCluster{}, ""},
		{"jwt without role", &template.Auth{Method: "jwt", Path: "p"}, &template.VaultCluster{}, "role"},
		{"kubernetes", &template.Auth{Method: "kubernetes", Role: "r"}, &template.VaultCluster{}, ""},
		{"kubernetes without role", &template.Auth{Method: "kubernetes"}, &template.VaultCluster{}, "needs role"},
		{"cert", &template.Auth{Method: "cert"}, withCert, ""},
		{"cert without a client certificate", &template.Auth{Method: "cert"}, &template.VaultCluster{}, "cert_file"},
		{"unknown", &template.Auth{Method: "ldap"}, &template.VaultCluster{}, `unknown auth method "ldap"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newMethod(tt.auth, tt.cluster, func(string) string { return "" })
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("newMethod() = %v, want ok", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("newMethod() = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestMethodsName(t *testing.T) {
	t.Parallel()
	m, _ := newMethod(&template.Auth{Method: "kubernetes", Role: "r"}, &template.VaultCluster{}, nil)
	if km := m.(kubernetesMethod); km.file != DefaultKubernetesTokenPath || km.mount != "kubernetes" {
		t.Errorf("kubernetes defaults: %+v", km)
	}
	m, _ = newMethod(&template.Auth{Method: "jwt", Path: "p", Role: "r", Mount: "/ci-jwt/"}, &template.VaultCluster{}, nil)
	if jm := m.(jwtMethod); jm.mount != "ci-jwt" {
		t.Errorf("jwt mount %q, want ci-jwt", jm.mount)
	}
	if tm, _ := newMethod(nil, &template.VaultCluster{}, nil); !tm.supplied() {
		t.Error("a token from the user must not be revoked by tmplrun")
	}
	for _, a := range []*template.Auth{
		{Method: "approle", RoleIDFile: "r", SecretIDFile: "s"},
		{Method: "jwt", Path: "p", Role: "r"},
		{Method: "kubernetes", Role: "r"},
	} {
		if m, _ := newMethod(a, &template.VaultCluster{}, nil); m.supplied() {
			t.Errorf("%s: a login token is tmplrun's to revoke", a.Method)
		}
	}
}

// Credentials are read (and checked) before anything is sent to Vault,
// and their content never appears in an error.
func TestMethodsReadCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	c, err := newClient(mustConfig(t), "", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		m    method
		want string
	}{
		{"token: no file, no $VAULT_TOKEN", tokenMethod{getenv: func(string) string { return "" }}, ErrNoToken.Error()},
		{"token: empty file", tokenMethod{file: empty}, "is empty"},
		{"token: missing file", tokenMethod{file: missing}, "read token_file"},
		{"approle: missing role_id_file", appRoleMethod{roleIDFile: missing, secretIDFile: missing, mount: "approle"}, "read role_id_file"},
		{"jwt: missing file", jwtMethod{file: missing, role: "r", mount: "jwt"}, "read jwt path"},
		{"kubernetes: empty token", kubernetesMethod{file: empty, role: "r", mount: "kubernetes"}, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.m.login(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("login() = %v, want %q", err, tt.want)
			}
			if classify(err) != failHard {
				t.Errorf("an unreadable credential must be a hard failure")
			}
		})
	}
	if _, err := (tokenMethod{getenv: func(string) string { return "" }}).login(context.Background(), c); !errors.Is(err, ErrNoToken) {
		t.Errorf("want ErrNoToken, got %v", err)
	}
}
