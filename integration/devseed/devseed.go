// Package devseed is what vault-dev (and so `make dev`) writes into a
// fresh Vault for examples/: the web and db policies, tmplrun's own
// policy, the tmplrun-task token role, two KV v2 secrets and an AppRole
// whose credentials it writes to files. The e2e test of the quickstart
// seeds its Vault with it too, so that the test runs what `make dev` runs.
package devseed

import (
	"os"
	"path/filepath"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// What examples/ expect of a dev Vault.
const (
	WebPolicy = `path "secret/data/web/*" { capabilities = ["read"] }`
	DBPolicy  = `path "secret/data/db*" { capabilities = ["read"] }`
	// TmplrunPolicy is what tmplrun's own token needs: derive, look up,
	// renew and revoke task tokens through the tmplrun-task role.
	TmplrunPolicy = `
path "auth/token/create/tmplrun-task" { capabilities = ["create", "update"] }
path "auth/token/roles/tmplrun-task"  { capabilities = ["read"] }
path "auth/token/lookup"              { capabilities = ["update"] }
path "auth/token/lookup-accessor"     { capabilities = ["update"] }
path "auth/token/revoke"              { capabilities = ["update"] }
path "auth/token/revoke-accessor"     { capabilities = ["update"] }
`
	DBCredsPolicy = `path "database/creds/app" { capabilities = ["read"] }`
	TaskRole      = "tmplrun-task"
	AppRole       = "tmplrun"
)

var Secrets = []struct {
	Path string
	Data map[string]any
}{
	{"web/config", map[string]any{"greeting": "hello", "api_key": "dev-api-key-0123"}},
	{"db", map[string]any{"username": "app", "password": "dev-db-password"}},
}

// Seeded says what Seed wrote where.
type Seeded struct {
	// RoleIDFile and SecretIDFile hold the AppRole's credentials (0600).
	RoleIDFile, SecretIDFile string
	// Database is the PostgreSQL credentials path, with Options.Database.
	Database  string
	removeDir string // the temporary creds dir, if Seed made it
}

// Options choose what Seed adds to the defaults.
type Options struct {
	// CredsDir receives role_id and secret_id (created 0700); a new
	// temporary dir when empty, removed by RemoveFiles.
	CredsDir string
	// Database adds PostgreSQL dynamic credentials (needs PostgreSQL).
	Database bool
}

// Seed writes the policies, the token role, the secrets and the AppRole,
// and the AppRole's credentials to files.
func Seed(v *vaulttest.Vault, o Options) (Seeded, error) {
	var s Seeded
	v.PutPolicy("web", WebPolicy)
	v.PutPolicy("db", DBPolicy)
	v.PutPolicy(AppRole, TmplrunPolicy)
	v.CreateTokenRole(TaskRole, vaulttest.TokenRole{
		AllowedPolicies: []string{"web", "db"},
		Period:          time.Hour,
		Orphan:          true,
	})
	for _, sec := range Secrets {
		v.WriteKV(sec.Path, sec.Data)
	}
	creds := v.AppRole(AppRole, vaulttest.AppRole{
		Policies: []string{AppRole},
		TokenTTL: time.Hour, TokenMaxTTL: 24 * time.Hour,
	})
	if o.Database {
		v.PutPolicy("db-creds", DBCredsPolicy)
		s.Database = v.DatabaseRole("app", vaulttest.DatabaseRole{DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour})
	}

	dir := o.CredsDir
	if dir == "" {
		d, err := os.MkdirTemp("", "vault-dev-")
		if err != nil {
			return s, err
		}
		dir, s.removeDir = d, d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return s, err
	}
	s.RoleIDFile = filepath.Join(dir, "role_id")
	s.SecretIDFile = filepath.Join(dir, "secret_id")
	if err := os.WriteFile(s.RoleIDFile, []byte(creds.RoleID+"\n"), 0o600); err != nil {
		return s, err
	}
	if err := os.WriteFile(s.SecretIDFile, []byte(creds.SecretID+"\n"), 0o600); err != nil {
		return s, err
	}
	return s, nil
}

// RemoveFiles removes what Seed wrote to disk: the credentials are
// useless once this Vault is gone.
func (s Seeded) RemoveFiles() {
	for _, f := range []string{s.RoleIDFile, s.SecretIDFile} {
		if f != "" {
			_ = os.Remove(f)
		}
	}
	if s.removeDir != "" {
		_ = os.Remove(s.removeDir)
	}
}
