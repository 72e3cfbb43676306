package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// The seed: what examples/ expect of a dev Vault.
const (
	webPolicy = `path "secret/data/web/*" { capabilities = ["read"] }`
	dbPolicy  = `path "secret/data/db*" { capabilities = ["read"] }`
	// tmplrunPolicy is what tmplrun's own token needs: derive, look up,
	// renew and revoke task tokens through the tmplrun-task role.
	tmplrunPolicy = `
path "auth/token/create/tmplrun-task" { capabilities = ["create", "update"] }
path "auth/token/roles/tmplrun-task"  { capabilities = ["read"] }
path "auth/token/lookup"              { capabilities = ["update"] }
path "auth/token/lookup-accessor"     { capabilities = ["update"] }
path "auth/token/revoke"              { capabilities = ["update"] }
path "auth/token/revoke-accessor"     { capabilities = ["update"] }
`
	dbCredsPolicy = `path "database/creds/app" { capabilities = ["read"] }`
	taskRole      = "tmplrun-task"
	appRole       = "tmplrun"
)

var secrets = []struct {
	path string
	data map[string]any
}{
	{"web/config", map[string]any{"greeting": "hello", "api_key": "dev-api-key-0123"}},
	{"db", map[string]any{"username": "app", "password": "dev-db-password"}},
}

// seeded says what seed wrote where.
type seeded struct {
	roleIDFile, secretIDFile string
	removeDir                string // the temporary creds dir, if seed made it
	database                 string // creds path, when -database
}

// seed writes the policies, the token role, the secrets and the AppRole,
// and the AppRole's credentials to files.
func seed(v *vaulttest.Vault, c config) (seeded, error) {
	var s seeded
	v.PutPolicy("web", webPolicy)
	v.PutPolicy("db", dbPolicy)
	v.PutPolicy(appRole, tmplrunPolicy)
	v.CreateTokenRole(taskRole, vaulttest.TokenRole{
		AllowedPolicies: []string{"web", "db"},
		Period:          time.Hour,
		Orphan:          true,
	})
	for _, sec := range secrets {
		v.WriteKV(sec.path, sec.data)
	}
	creds := v.AppRole(appRole, vaulttest.AppRole{
		Policies: []string{appRole},
		TokenTTL: time.Hour, TokenMaxTTL: 24 * time.Hour,
	})
	if c.database {
		v.PutPolicy("db-creds", dbCredsPolicy)
		s.database = v.DatabaseRole("app", vaulttest.DatabaseRole{DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour})
	}

	dir := c.credsDir
	if dir == "" {
		d, err := os.MkdirTemp("", "vault-dev-")
		if err != nil {
			return s, err
		}
		dir, s.removeDir = d, d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return s, err
	}
	s.roleIDFile = filepath.Join(dir, "role_id")
	s.secretIDFile = filepath.Join(dir, "secret_id")
	if err := os.WriteFile(s.roleIDFile, []byte(creds.RoleID+"\n"), 0o600); err != nil {
		return s, err
	}
	if err := os.WriteFile(s.secretIDFile, []byte(creds.SecretID+"\n"), 0o600); err != nil {
		return s, err
	}
	return s, nil
}

// removeFiles removes what seed wrote to disk: the credentials are
// useless once this Vault is gone.
func (s seeded) removeFiles() {
	for _, f := range []string{s.roleIDFile, s.secretIDFile} {
		if f != "" {
			_ = os.Remove(f)
		}
	}
	if s.removeDir != "" {
		_ = os.Remove(s.removeDir)
	}
}

func startVault(t *programT, c config, stderr io.Writer) *vaulttest.Vault {
	v := vaulttest.Start(t, vaulttest.Options{
		Addr:      c.addr,
		RootToken: c.rootToken,
		LogOutput: stderr,
		LogLevel:  c.logLevel,
	})
	return v
}

func printBanner(w io.Writer, v *vaulttest.Vault, s seeded) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("vault-dev: Vault 1.14.1 in this process. State is in memory only: it is lost when vault-dev stops.")
	p("")
	p("  address:    %s", v.Addr)
	p("  root token: %s", v.RootToken)
	p("")
	p("export VAULT_ADDR=%s VAULT_TOKEN=%s", v.Addr, v.RootToken)
	p("")
	p("Seeded:")
	p("  policies    web (read secret/data/web/*), db (read secret/data/db*), tmplrun (derive task tokens)")
	p("  token role  %s: allowed_policies web, db; period 1h; orphan", taskRole)
	p("  KV v2       secret/web/config (greeting, api_key), secret/db (username, password)")
	p("  AppRole     %s (policy tmplrun):", appRole)
	p("                role_id   in %s", s.roleIDFile)
	p("                secret_id in %s", s.secretIDFile)
	if s.database != "" {
		p("  database    PostgreSQL credentials at %s (policy db-creds)", s.database)
	}
	p("")
	p("Read a secret:")
	p("  curl -s -H \"X-Vault-Token: %s\" %s/v1/secret/data/web/config", v.RootToken, v.Addr)
	p("Change it (what `vault kv put secret/web/config greeting=hi api_key=dev-api-key-0123` does):")
	p("  curl -s -H \"X-Vault-Token: %s\" -X POST -d '{\"data\":{\"greeting\":\"hi\",\"api_key\":\"dev-api-key-0123\"}}' %s/v1/secret/data/web/config",
		v.RootToken, v.Addr)
	p("")
	p("Ctrl-C stops it.")
}
