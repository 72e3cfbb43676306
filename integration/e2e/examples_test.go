package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tmplrun/tmplrun/integration/devseed"
	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// copyExample copies examples/<name> as it is into dir.
func copyExample(t *testing.T, name, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../examples", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.Base(name))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every Nomad jobspec under examples/ renders against a real Vault as it
// is (tmplrun logging in with $VAULT_TOKEN at $VAULT_ADDR, as a jobspec
// has no agent vault block) — except pki-cert.nomad.hcl: the in-process
// Vault has no PKI engine (it is validated by template's tests).
func TestNomadExamplesRender(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("proxy", `path "secret/data/proxy/*" { capabilities = ["read"] }`)
	v.PutPolicy("worker", `path "secret/data/worker/*" { capabilities = ["read"] }`)
	v.PutPolicy("webapp-read", `path "secret/data/webapp/*" { capabilities = ["read"] }`)
	v.PutPolicy("shop-staging", `path "secret/data/staging/*" { capabilities = ["read"] }`)
	v.WriteKV("proxy/upstreams", map[string]any{"hosts": "a.internal,b.internal"})
	v.WriteKV("worker/amqp", map[string]any{"user": "amqp-user", "password": "amqp pass"})
	v.WriteKV("webapp/db", map[string]any{"username": "web", "password": "web-db-pass"})
	v.WriteKV("staging/api", map[string]any{"token": "api-token-1"})
	env := []string{"VAULT_ADDR=" + v.Addr, "VAULT_TOKEN=" + v.RootToken}

	tests := []struct {
		file string
		want []string
	}{
		{"nomad/change-script.nomad.hcl", []string{
			"==> edge/nginx: local/nginx.conf <==",
			"# upstream 0: a.internal", "# upstream 1: b.internal",
		}},
		{"nomad/env-template.nomad.hcl", []string{
			"==> queue/consumer: secrets/amqp.env <==",
			"AMQP_USER=amqp-user", `AMQP_PASSWORD="amqp pass"`, "AMQP_HOST=rabbit.service.internal",
		}},
		{"nomad/kv-secret-file.nomad.hcl", []string{
			"==> web/server: secrets/app.conf <==",
			`user     = "web"`, `password = "web-db-pass"`,
		}},
		{"nomad/shared-config.nomad.hcl", []string{
			"==> backend/api: local/env.txt <==\nenvironment=staging\nalloc=${NOMAD_ALLOC_ID}\n",
			"==> backend/api: secrets/api.env <==\ntoken=api-token-1\n",
			"==> backend/cron: local/env.txt <==\nmode=cron\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := copyExample(t, tt.file, dir)
			p := tmplrun(t, env, "render", "-dry-run", "-timeout", "30s", path)
			if code := p.wait(t); code != 0 {
				t.Fatalf("render -dry-run %s: exit %d:\n%s", tt.file, code, p.stderr.String())
			}
			for _, want := range tt.want {
				if !strings.Contains(p.stdout.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, p.stdout.String())
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("-dry-run wrote files: %v", entries)
			}
		})
	}
}

// The quickstart that `make dev` runs, against a Vault set up as
// vault-dev sets it up (AppRole login from .creds/, the tmplrun-task
// token role): the process prints greeting=hello; a new secret re-renders
// the file and restarts it, and it prints greeting=bonjour.
func TestQuickstart(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	dir := t.TempDir()
	path := copyExample(t, "quickstart/tmplrun.hcl", dir)
	// Seeded as vault-dev seeds it, the AppRole's credentials where
	// scripts/dev.sh has vault-dev write them (.creds beside the config).
	seeded, err := devseed.Seed(v, devseed.Options{CredsDir: filepath.Join(dir, ".creds")})
	if err != nil {
		t.Fatal(err)
	}
	secretID := strings.TrimSpace(readFile(t, seeded.SecretIDFile))

	p := tmplrun(t, nil, "run", "-var", "vault_addr="+v.Addr, path)
	eventually(t, "greeting=hello", func() bool {
		return strings.Contains(p.stdout.String(), "local/app.conf says: greeting=hello")
	})
	if !strings.Contains(p.stdout.String(), "VAULT_TOKEN set: yes") {
		t.Errorf("the task has no VAULT_TOKEN:\n%s", p.stdout.String())
	}
	v.WriteKV("web/config", map[string]any{"greeting": "bonjour", "api_key": "dev-api-key-0123"})
	eventually(t, "greeting=bonjour", func() bool {
		return strings.Contains(p.stdout.String(), "local/app.conf says: greeting=bonjour")
	})
	p.logHas(t, "restarting (change_mode=restart)")
	if code := p.stop(t); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), secretID) {
		t.Error("the secret_id appears in tmplrun's log")
	}
}
