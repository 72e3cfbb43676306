package main

import (
	"fmt"
	"io"

	"github.com/tmplrun/tmplrun/integration/devseed"
	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

func startVault(t *programT, c config, stderr io.Writer) *vaulttest.Vault {
	v := vaulttest.Start(t, vaulttest.Options{
		Addr:      c.addr,
		RootToken: c.rootToken,
		LogOutput: stderr,
		LogLevel:  c.logLevel,
	})
	return v
}

func printBanner(w io.Writer, v *vaulttest.Vault, s devseed.Seeded) {
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
	p("  token role  %s: allowed_policies web, db; period 1h; orphan", devseed.TaskRole)
	p("  KV v2       secret/web/config (greeting, api_key), secret/db (username, password)")
	p("  AppRole     %s (policy tmplrun):", devseed.AppRole)
	p("                role_id   in %s", s.RoleIDFile)
	p("                secret_id in %s", s.SecretIDFile)
	if s.Database != "" {
		p("  database    PostgreSQL credentials at %s (policy db-creds)", s.Database)
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
