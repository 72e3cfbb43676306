package vaultauthtest

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// After Close, nothing of vaultauth runs. Not parallel: Go runs it while
// the parallel tests (and their token loops) are paused.
func TestNoGoroutinesAfterClose(t *testing.T) {
	r := newRig(t, 3*time.Second)
	cs, err := vaultauth.NewClusters([]*template.VaultCluster{r.tokenCluster(t)}, r.options(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	for _, name := range []string{"web", "db"} {
		if _, err := cs.Task(ctx, r.task(name, &template.Vault{Policies: []string{name}})); err != nil {
			t.Fatal(err)
		}
	}
	if n := vaultauthGoroutines(); n == 0 {
		t.Fatal("no token loop is running: this test cannot see one")
	}
	if err := cs.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Close waited for the loops; their goroutines return right after.
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for vaultauthGoroutines() > 0 {
		select {
		case <-deadline:
			buf := make([]byte, 1<<20)
			t.Fatalf("vaultauth goroutines after Close:\n%s", buf[:runtime.Stack(buf, true)])
		case <-tick.C:
		}
	}
}

// vaultauthGoroutines counts goroutines running vaultauth's own code.
func vaultauthGoroutines() int {
	buf := make([]byte, 1<<22)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "tmplrun/vaultauth.") {
			n++
		}
	}
	return n
}
