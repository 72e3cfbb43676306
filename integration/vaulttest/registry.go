package vaulttest

import (
	"github.com/hashicorp/vault/plugins/database/postgresql"
	"github.com/hashicorp/vault/sdk/helper/consts"
)

// registry is the core's catalogue of builtin plugins. Vault's test
// helpers install a mock whose "postgresql-database-plugin" is a stub; this
// one serves the real PostgreSQL database plugin, so the database secrets
// engine issues real credentials with real leases.
//
// Secrets engines and auth methods are not looked up here: the core finds
// them in CoreConfig.LogicalBackends and CredentialBackends first.
type registry struct {
	database map[string]func() (any, error)
}

func newRegistry() *registry {
	return &registry{database: map[string]func() (any, error){
		"postgresql-database-plugin": postgresql.New,
	}}
}

func (r *registry) Contains(name string, typ consts.PluginType) bool {
	_, ok := r.Get(name, typ)
	return ok
}

func (r *registry) Get(name string, typ consts.PluginType) (func() (any, error), bool) {
	if typ != consts.PluginTypeDatabase {
		return nil, false
	}
	f, ok := r.database[name]
	return f, ok
}

func (r *registry) Keys(typ consts.PluginType) []string {
	if typ != consts.PluginTypeDatabase {
		return nil
	}
	keys := make([]string, 0, len(r.database))
	for k := range r.database {
		keys = append(keys, k)
	}
	return keys
}

func (r *registry) DeprecationStatus(name string, typ consts.PluginType) (consts.DeprecationStatus, bool) {
	if r.Contains(name, typ) {
		return consts.Supported, true
	}
	return consts.Unknown, false
}

func (r *registry) IsBuiltinEntPlugin(string, consts.PluginType) bool { return false }
