package runner

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tmplrun/tmplrun/template"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout bounds every wait in these tests; a test that hits it fails.
const testTimeout = 10 * time.Second

// fakeTask is a Lifecycle that records what the runner asks of it. It is
// ours (the runner's consumer interface), not a fake of Vault.
type fakeTask struct {
	mu      sync.Mutex
	running bool
	calls   []string
	exit    int // Exec's exit code
	// block, when set, makes Restart wait for it to be closed.
	block chan struct{}
	// restarting is signalled when Restart is entered.
	restarting chan struct{}
	changed    chan struct{}
	// execFn, when set, is what Exec does after recording the call.
	execFn func(ctx context.Context, s *template.ChangeScript) (int, error)
}

func newFakeTask(running bool) *fakeTask {
	return &fakeTask{running: running, changed: make(chan struct{}, 1), restarting: make(chan struct{}, 8)}
}

func (f *fakeTask) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *fakeTask) Restart(ctx context.Context, reason string) error {
	f.restarting <- struct{}{}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.record("restart")
	return nil
}

func (f *fakeTask) Signal(_ context.Context, sig string) error {
	f.record("signal " + sig)
	return nil
}

func (f *fakeTask) Exec(ctx context.Context, s *template.ChangeScript) (int, error) {
	f.record("exec " + strings.Join(append([]string{s.Command}, s.Args...), " "))
	if f.execFn != nil {
		return f.execFn(ctx, s)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exit, nil
}

func (f *fakeTask) Kill(_ context.Context, reason string) error {
	f.record("kill")
	return nil
}

// setRunning is what a supervisor does once it started the process.
func (f *fakeTask) setRunning(v bool) {
	f.mu.Lock()
	f.running = v
	f.mu.Unlock()
}

func (f *fakeTask) IsRunning() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running
}

func (f *fakeTask) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// waitCalls waits until the task has recorded at least n calls.
func (f *fakeTask) waitCalls(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		if c := f.Calls(); len(c) >= n {
			return c
		}
		select {
		case <-f.changed:
		case <-deadline:
			t.Fatalf("waited for %d lifecycle calls, got %v", n, f.Calls())
		}
	}
}

// events collects a runner's events.
type events struct {
	mu      sync.Mutex
	all     []Event
	changed chan struct{}
}

func newEvents() *events { return &events{changed: make(chan struct{}, 1)} }

func (e *events) Event(ev Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

func (e *events) list() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.all)
}

// wait waits for an event matching ok and returns it.
func (e *events) wait(t *testing.T, what string, ok func(Event) bool) Event {
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
			t.Fatalf("no event %s; got:\n%s", what, formatEvents(e.list()))
		}
	}
}

func (e *events) count(ok func(Event) bool) int {
	n := 0
	for _, ev := range e.list() {
		if ok(ev) {
			n++
		}
	}
	return n
}

// nth matches the n-th event of kind k for dest.
func (e *events) nth(k Kind, dest string, n int) func(Event) bool {
	return func(ev Event) bool {
		return ev.Kind == k && ev.Template == dest && e.count(kindFor(k, dest)) >= n
	}
}

func kind(k Kind) func(Event) bool { return func(e Event) bool { return e.Kind == k } }

func kindFor(k Kind, dest string) func(Event) bool {
	return func(e Event) bool { return e.Kind == k && e.Template == dest }
}

func formatEvents(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "  %s %s: %s\n", e.Kind, e.Template, e.Message)
	}
	return b.String()
}

// testConfig is a config for a task dir of its own, with no quiescence
// and no splay so that nothing waits.
func testConfig(t *testing.T, templates ...*template.Template) Config {
	t.Helper()
	return Config{
		Task:      "web",
		Dir:       filepath.Join(t.TempDir(), "web"),
		Templates: templates,
		TemplateConfig: &template.TemplateConfig{
			FunctionDenylist:          template.DefaultFunctionDenylist,
			VaultRetry:                template.NewRetry(),
			VaultDefaultLeaseDuration: template.DefaultVaultDefaultLeaseDuration,
			Wait:                      &template.Wait{Min: dur(0), Max: dur(0)},
		},
		Logger: slog.New(slog.DiscardHandler),
	}
}

// data is a template rendering text into dest.
func data(dest, text string, opts ...func(*template.Template)) *template.Template {
	t := template.NewTemplate()
	t.Destination = dest
	t.Data = text
	t.Splay = 0
	t.ChangeMode = template.ChangeModeNoop
	for _, o := range opts {
		o(t)
	}
	t.Canonicalize()
	return t
}

func mode(m string) func(*template.Template) {
	return func(t *template.Template) { t.ChangeMode = m }
}

// start builds and starts a runner, stopping it when the test ends.
func start(t *testing.T, cfg Config) *Runner {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.filePoll = 5 * time.Millisecond
	r.missingEvery = 20 * time.Millisecond
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(r.Stop)
	return r
}

func waitFirst(t *testing.T, r *Runner) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	env, err := r.WaitFirstRender(ctx)
	if err != nil {
		t.Fatalf("WaitFirstRender: %v", err)
	}
	return env
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	// Through a rename, so that the file dependency never reads half.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
