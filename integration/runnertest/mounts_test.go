package runnertest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
)

// consul-template asks Vault which mount each secret is on (to tell KV v2
// from v1) before reading it. The runners of one process ask once per
// mount: two tasks reading four KV v2 and two KV v1 secrets each make two
// lookups, not twelve, and a task whose token may not use a mount is
// still refused what it may not read.
func TestMountLookupsOncePerMount(t *testing.T) {
	v := startVault(t)
	v.PutPolicy("kv2-only", `path "secret/data/*" { capabilities = ["read"] }`)
	var templates []*template.Template
	for i := 0; i < 4; i++ {
		v.WriteKV(fmt.Sprintf("app/s%d", i), map[string]any{"v": fmt.Sprintf("kv2-%d", i)})
		templates = append(templates, tmpl(fmt.Sprintf("local/kv2-%d.conf", i),
			fmt.Sprintf(`{{ with secret "secret/data/app/s%d" }}{{ .Data.data.v }}{{ end }}`, i), template.ChangeModeNoop))
	}
	for i := 0; i < 2; i++ {
		v.WriteKV1(fmt.Sprintf("app/s%d", i), map[string]any{"v": fmt.Sprintf("kv1-%d", i)})
		templates = append(templates, tmpl(fmt.Sprintf("local/kv1-%d.conf", i),
			fmt.Sprintf(`{{ with secret "kv/app/s%d" }}{{ .Data.v }}{{ end }}`, i), template.ChangeModeNoop))
	}
	v.ResetRequests()

	// A task that may read everything renders, with one lookup per mount.
	full := config(t, v, taskToken(v), templates...)
	r1 := start(t, full)
	waitFirst(t, r1)
	// A second task with another token asks nothing more; its token may
	// not use kv/: the cached answer about kv/ does not let it read there.
	limited := config(t, v, v.CreateToken(vaulttest.TokenOptions{Policies: []string{"kv2-only"}, TTL: time.Hour}), templates...)
	ev := newEvents()
	limited.Events = ev
	r2 := start(t, limited)
	for i := 0; i < 4; i++ {
		ev.wait(t, "kv2 rendered", rendered(fmt.Sprintf("local/kv2-%d.conf", i)))
	}
	for i := 0; i < 2; i++ {
		e := ev.wait(t, "kv/ refused", func(e runner.Event) bool {
			return e.Kind == runner.KindDependencyError && e.Dependency == fmt.Sprintf("vault.read(kv/app/s%d)", i)
		})
		if !strings.Contains(e.Message, "permission denied") {
			t.Errorf("kv/app/s%d: %s, want a permission denied", i, e.Message)
		}
	}
	r1.Stop()
	r2.Stop()

	got := v.Requests()
	if n := got.Prefix("sys/internal/ui/mounts/"); n > 2 {
		t.Errorf("%d mount lookups for 2 mounts, want at most 2:\n%s", n, got)
	}
	if n := got.Prefix("secret/data/app/"); n < 8 {
		t.Errorf("%d KV v2 reads, want at least 8 (4 per task):\n%s", n, got)
	}
	requireNoGoroutinesLeft(t)
}
