package runnertest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
)

// leaseDuration is vault_default_lease_duration for every runner of this
// package: KV v2 secrets are re-read about every 0.9 s.
const leaseDuration = time.Second

// testTimeout bounds every wait; a test that hits it fails.
const testTimeout = 60 * time.Second

// taskPolicy is what a task token may read.
const taskPolicy = `
path "secret/data/*" { capabilities = ["read"] }
path "kv/*" { capabilities = ["read"] }
path "database/creds/*" { capabilities = ["read"] }
path "sys/internal/ui/mounts/*" { capabilities = ["read"] }
`

func startVault(t *testing.T) *vaulttest.Vault {
	t.Helper()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("task", taskPolicy)
	return v
}

// taskToken is a task token: the task policy only, a long TTL.
func taskToken(v *vaulttest.Vault) string {
	return v.CreateToken(vaulttest.TokenOptions{Policies: []string{"task"}, TTL: time.Hour})
}

func templateConfig() *template.TemplateConfig {
	tc := template.NewTemplateConfig()
	zero := time.Duration(0)
	tc.Wait = &template.Wait{Min: &zero, Max: &zero} // render at once
	tc.VaultDefaultLeaseDuration = leaseDuration
	tc.VaultRetry = &template.Retry{Attempts: 0, Backoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}
	return tc
}

func tmpl(dest, data, mode string, opts ...func(*template.Template)) *template.Template {
	t := template.NewTemplate()
	t.Destination = dest
	t.Data = data
	t.ChangeMode = mode
	t.Splay = 0
	for _, o := range opts {
		o(t)
	}
	t.Canonicalize()
	return t
}

func config(t *testing.T, v *vaulttest.Vault, token string, templates ...*template.Template) runner.Config {
	return runner.Config{
		Task:           "web",
		Dir:            filepath.Join(t.TempDir(), "web"),
		Templates:      templates,
		TemplateConfig: templateConfig(),
		VaultCluster:   &template.VaultCluster{Name: "default", Address: v.Addr},
		Token:          token,
		Logger:         slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// start builds and starts a runner; it is stopped when the test ends.
func start(t *testing.T, cfg runner.Config) *runner.Runner {
	t.Helper()
	r, err := runner.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(r.Stop)
	return r
}

func waitFirst(t *testing.T, r *runner.Runner) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	env, err := r.WaitFirstRender(ctx)
	if err != nil {
		t.Fatalf("WaitFirstRender: %v", err)
	}
	return env
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// task is a Lifecycle that records what the runner asks of it (the
// runner's own consumer interface; Vault is real).
type task struct {
	mu      sync.Mutex
	running bool
	calls   []string
	changed chan struct{}
}

func newTask() *task { return &task{changed: make(chan struct{}, 1)} }

func (k *task) record(s string) {
	k.mu.Lock()
	k.calls = append(k.calls, s)
	k.mu.Unlock()
	select {
	case k.changed <- struct{}{}:
	default:
	}
}

func (k *task) Restart(context.Context, string) error    { k.record("restart"); return nil }
func (k *task) Signal(_ context.Context, s string) error { k.record("signal " + s); return nil }
func (k *task) Exec(_ context.Context, s *template.ChangeScript) (int, error) {
	k.record("exec " + s.Command)
	return 0, nil
}
func (k *task) Kill(context.Context, string) error { k.record("kill"); return nil }
func (k *task) IsRunning() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.running
}

func (k *task) setRunning(v bool) {
	k.mu.Lock()
	k.running = v
	k.mu.Unlock()
}

func (k *task) Calls() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.calls)
}

func (k *task) waitCalls(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		if c := k.Calls(); len(c) >= n {
			return c
		}
		select {
		case <-k.changed:
		case <-deadline:
			t.Fatalf("waited for %d lifecycle calls, got %v", n, k.Calls())
		}
	}
}

// events collects a runner's events.
type events struct {
	mu      sync.Mutex
	all     []runner.Event
	changed chan struct{}
}

func newEvents() *events { return &events{changed: make(chan struct{}, 1)} }

func (e *events) Event(ev runner.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

func (e *events) list() []runner.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.all)
}

func (e *events) count(ok func(runner.Event) bool) int {
	n := 0
	for _, ev := range e.list() {
		if ok(ev) {
			n++
		}
	}
	return n
}

func (e *events) wait(t *testing.T, what string, ok func(runner.Event) bool) runner.Event {
	t.Helper()
	deadline := time.After(testTimeout)
	seen := 0
	for {
		evs := e.list()
		for _, ev := range evs[seen:] {
			if ok(ev) {
				return ev
			}
		}
		seen = len(evs)
		select {
		case <-e.changed:
		case <-deadline:
			var b strings.Builder
			for _, ev := range e.list() {
				fmt.Fprintf(&b, "  %s %s: %s\n", ev.Kind, ev.Template, ev.Message)
			}
			t.Fatalf("no event %s; got:\n%s", what, b.String())
		}
	}
}

func kind(k runner.Kind) func(runner.Event) bool {
	return func(e runner.Event) bool { return e.Kind == k }
}

func rendered(dest string) func(runner.Event) bool {
	return func(e runner.Event) bool { return e.Kind == runner.KindRendered && e.Template == dest }
}

// nthRendered matches once dest has been rendered n times.
func (e *events) nthRendered(dest string, n int) func(runner.Event) bool {
	return func(ev runner.Event) bool { return rendered(dest)(ev) && e.count(rendered(dest)) >= n }
}

// ourGoroutines lists the goroutines of the runner and of
// consul-template, or of a Vault client's lease renewer.
func ourGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "tmplrun/tmplrun/runner.") || strings.Contains(g, "hashicorp/consul-template/") ||
			strings.Contains(g, "vault/api.(*LifetimeWatcher)") {
			out = append(out, g)
		}
	}
	return out
}

// requireNoGoroutinesLeft fails unless every goroutine of the runner is
// gone (shortly) after Stop.
func requireNoGoroutinesLeft(t *testing.T) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		left := ourGoroutines()
		if len(left) == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%d goroutines left after Stop:\n%s", len(left), strings.Join(left, "\n\n"))
		}
	}
}

// waitReads waits until Vault has served n GETs of path.
func waitReads(t *testing.T, v *vaulttest.Vault, path string, n int) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(testTimeout)
	for v.Requests().Reads(path) < n {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("Vault served %d reads of %s, want %d", v.Requests().Reads(path), path, n)
		}
	}
}

// waitErrors waits until the runner has seen n failed Vault requests.
func waitErrors(t *testing.T, r *runner.Runner, n uint64) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(testTimeout)
	for r.Status().Vault.Errors < n {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%d Vault errors seen, want %d", r.Status().Vault.Errors, n)
		}
	}
}
