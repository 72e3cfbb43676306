package runnertest

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
)

// benchTemplates are n templates over secrets KV v2 secrets (template i
// reads secret i mod secrets), written to Vault.
func benchTemplates(b *testing.B, v *vaulttest.Vault, n, secrets int) []*template.Template {
	b.Helper()
	for i := 0; i < secrets; i++ {
		v.WriteKV(fmt.Sprintf("bench/s%04d", i), map[string]any{"value": fmt.Sprintf("v%04d", i), "user": "svc"})
	}
	ts := make([]*template.Template, n)
	for i := range ts {
		ts[i] = tmpl(fmt.Sprintf("local/f%04d.conf", i),
			fmt.Sprintf(`{{ with secret "secret/data/bench/s%04d" }}value={{ .Data.data.value }}
user={{ .Data.data.user }}
{{ end }}`, i%secrets), "noop")
	}
	return ts
}

// BenchmarkRender is `tmplrun render` of one task in process: every
// template rendered once, Vault requests counted. Profile it with
// -cpuprofile / -memprofile. Secrets are re-read every 5 minutes — unless
// the package's tests ran first in the same process: the setting is
// process-wide in consul-template and theirs is 1 s, and a render longer
// than that counts re-reads too (run it with -run '^$').
func BenchmarkRender(b *testing.B) {
	for _, c := range []struct{ templates, secrets int }{{500, 50}, {2000, 200}} {
		b.Run(fmt.Sprintf("%dtpl-%dsecrets", c.templates, c.secrets), func(b *testing.B) {
			v := vaulttest.Start(b, vaulttest.Options{})
			v.PutPolicy("task", taskPolicy)
			ts := benchTemplates(b, v, c.templates, c.secrets)
			token := v.CreateToken(vaulttest.TokenOptions{Policies: []string{"task"}, TTL: time.Hour})
			tc := templateConfig()
			tc.VaultDefaultLeaseDuration = 5 * time.Minute
			v.ResetRequests()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				err := runner.Render(context.Background(), runner.Config{
					Task:           "bench",
					Dir:            filepath.Join(b.TempDir(), "bench"),
					Templates:      ts,
					TemplateConfig: tc,
					VaultCluster:   &template.VaultCluster{Name: "default", Address: v.Addr},
					Token:          token,
					Logger:         slog.New(slog.DiscardHandler),
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(v.Requests().Total())/float64(b.N), "requests/op")
		})
	}
}
