package vaulttest

import (
	"net"
	"strconv"
	"time"
)

// The database secrets engine's mount and the connection that
// EnableDatabase configures there.
const (
	DatabaseMount      = "database"
	DatabaseConnection = "postgres"
)

// EnableDatabase starts PostgreSQL (Postgres), mounts the database
// secrets engine at database/ and configures its connection "postgres"
// to the server with the real PostgreSQL plugin. It does this once per
// Vault and returns the server.
func (v *Vault) EnableDatabase() *Postgres {
	v.t.Helper()
	pg := v.Postgres()
	v.dbMu.Lock()
	defer v.dbMu.Unlock()
	if v.dbDone {
		return pg
	}
	v.enable(false, DatabaseMount, "database")
	host := net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port))
	v.write(DatabaseMount+"/config/"+DatabaseConnection, map[string]any{
		"plugin_name":    "postgresql-database-plugin",
		"connection_url": "postgresql://{{username}}:{{password}}@" + host + "/" + pg.Database + "?sslmode=disable",
		"username":       pg.User,
		"password":       pg.Password,
		"allowed_roles":  "*",
	})
	v.dbDone = true
	return pg
}

// DatabaseRole describes a role of the database secrets engine whose
// credentials are PostgreSQL login roles, valid until their lease ends.
type DatabaseRole struct {
	// DefaultTTL is each lease's TTL, renewable up to MaxTTL after it
	// was issued. Defaults: Vault's (32 days).
	DefaultTTL, MaxTTL time.Duration
	// CreationStatements override the default: a login role with the
	// issued password, valid until the lease's expiry.
	CreationStatements []string
}

// DefaultCreationStatements create a PostgreSQL login role that is valid
// until its lease expires (Vault moves VALID UNTIL on renewal and drops
// the role on revocation).
var DefaultCreationStatements = []string{
	`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
}

// DatabaseRole enables the database secrets engine (EnableDatabase) and
// writes role name. Credentials are then read at the returned path,
// database/creds/NAME, each with its own lease.
func (v *Vault) DatabaseRole(name string, r DatabaseRole) string {
	v.t.Helper()
	v.EnableDatabase()
	stmts := r.CreationStatements
	if len(stmts) == 0 {
		stmts = DefaultCreationStatements
	}
	data := map[string]any{
		"db_name":             DatabaseConnection,
		"creation_statements": stmts,
	}
	putDuration(data, "default_ttl", r.DefaultTTL)
	putDuration(data, "max_ttl", r.MaxTTL)
	v.write(DatabaseMount+"/roles/"+name, data)
	return DatabaseMount + "/creds/" + name
}
