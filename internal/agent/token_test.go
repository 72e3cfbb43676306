package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/internal/status"
	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// replacingFeed is a token keeper whose token is replaced (generation 1
// → 2) right after the first time anyone reads it: the worst moment, as
// when Vault refuses a fresh token while the runner is being built.
type replacingFeed struct {
	mu    sync.Mutex
	gen   int
	reads int
}

func (f *replacingFeed) Token() vaultauth.Token {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	tok := vaultauth.Token{Generation: f.gen}
	if f.reads == 1 {
		f.gen = 2 // replaced just after this read
	}
	return tok
}

// Subscribe behaves as vaultauth.TaskToken's: a token newer than after
// is delivered at once.
func (f *replacingFeed) Subscribe(after int) (<-chan vaultauth.Token, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan vaultauth.Token, 1)
	if f.gen > after {
		ch <- vaultauth.Token{Generation: f.gen}
	}
	return ch, func() {}
}

// The runner starts with the token follow returns; a token replacing
// that one in between must reach the runner.
func TestFollowDeliversAReplacementThatCameBeforeTheSubscription(t *testing.T) {
	t.Parallel()
	f := &replacingFeed{gen: 1}
	first, news, cancel := follow(f)
	defer cancel()
	if first.Generation != 1 {
		t.Fatalf("first token: generation %d, want 1", first.Generation)
	}
	select {
	case tok := <-news:
		if tok.Generation != 2 {
			t.Errorf("delivered generation %d, want 2", tok.Generation)
		}
	default:
		t.Fatal("the token that replaced the runner's first one was never delivered: the runner stays on a dead token")
	}
}

func TestTokenStatus(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	obtained := now.Add(-10 * time.Minute)
	tests := []struct {
		name string
		in   vaultauth.Status
		want status.Token
	}{{
		name: "tmplrun's own root token never expires",
		in: vaultauth.Status{Cluster: "default", State: vaultauth.StateHealthy, Generation: 1,
			Policies: []string{"root"}, Obtained: obtained, Next: vaultauth.Plan{Step: vaultauth.StepNone}},
		want: status.Token{Cluster: "default", State: "healthy", Policies: []string{"root"}, NeverExpires: true,
			Obtained: &obtained, Generation: 1},
	}, {
		name: "a task token, renewed, with its next renewal",
		in: vaultauth.Status{Cluster: "default", Task: "web", State: vaultauth.StateHealthy, Generation: 2,
			Policies: []string{"default", "web"}, TTL: time.Hour, Renewable: true,
			Expires: now.Add(30 * time.Minute), Obtained: obtained, LastRenewal: now.Add(-time.Minute), Renewals: 3,
			Next: vaultauth.Plan{Step: vaultauth.StepRenew, At: now.Add(20 * time.Minute)}},
		want: status.Token{State: "healthy", Policies: []string{"default", "web"}, TTLSeconds: 1800,
			ExpiresAt: ptr(now.Add(30 * time.Minute)), Renewable: true, Obtained: &obtained,
			LastRenewal: ptr(now.Add(-time.Minute)), Renewals: 3, Next: "renew", NextAt: ptr(now.Add(20 * time.Minute)),
			Generation: 2},
	}, {
		name: "an expired token is 0, not never-expiring",
		in: vaultauth.Status{Task: "web", State: vaultauth.StateRederiving, Generation: 1, TTL: time.Minute,
			Expires: now.Add(-time.Second), Obtained: obtained, Failures: 2, LastError: "403 permission denied",
			Next: vaultauth.Plan{Step: vaultauth.StepReplace, At: now.Add(4 * time.Second)}},
		want: status.Token{State: "re-deriving", Policies: []string{}, ExpiresAt: ptr(now.Add(-time.Second)),
			Obtained: &obtained, Next: "replace", NextAt: ptr(now.Add(4 * time.Second)), Generation: 1,
			Failures: 2, LastError: "403 permission denied"},
	}, {
		name: "not logged in yet",
		in:   vaultauth.Status{Cluster: "eu", State: vaultauth.StateIdle},
		want: status.Token{Cluster: "eu", State: "idle", Policies: []string{}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, *tokenStatus(tt.in, now)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func ptr(t time.Time) *time.Time { return &t }

func TestPendingReason(t *testing.T) {
	t.Parallel()
	refused := errors.New("create a token with policies [web] at auth/token/create/tmplrun-task: 400 token policies (web) must be subset")
	tests := []struct {
		name      string
		in        vaultauth.Event
		want      string
		clear, ok bool
	}{
		{"own login, vault down", vaultauth.Event{Cluster: "default", Kind: vaultauth.EventUnreachable, Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")},
			"waiting for its vault token: tmplrun's own login to vault cluster default: vault unreachable: dial tcp 127.0.0.1:1: connect: connection refused — retrying", false, true},
		{"derivation failed", vaultauth.Event{Cluster: "default", Task: "web", Kind: vaultauth.EventObtainFailed, Err: refused},
			"waiting for its vault token: deriving its vault token failed: " + refused.Error() + " — retrying", false, true},
		{"logged in", vaultauth.Event{Cluster: "default", Kind: vaultauth.EventObtained}, "", true, true},
		{"vault back", vaultauth.Event{Cluster: "default", Kind: vaultauth.EventReachable}, "", true, true},
		{"renewed says nothing", vaultauth.Event{Cluster: "default", Task: "web", Kind: vaultauth.EventRenewed}, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, clear, ok := pendingReason(tt.in)
			if got != tt.want || clear != tt.clear || ok != tt.ok {
				t.Errorf("= %q, %v, %v; want %q, %v, %v", got, clear, ok, tt.want, tt.clear, tt.ok)
			}
		})
	}
}

// A task whose Vault cannot be reached at all waits for its token, and
// /v1/status says why; tmplrun's own token shows in clusters[].
func TestStartingTaskSaysWhyItWaits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "tmplrun.hcl")
	src := `
vault {
  address          = "http://127.0.0.1:1"
  create_from_role = "tmplrun-task"
  auth "token" {}
}
task "web" {
  vault {
    policies = ["web"]
  }
  template {
    data        = "x"
    destination = "local/a"
  }
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := template.ParseFile(file, nil)
	if err != nil {
		t.Fatal(err)
	}

	a, err := New(cfg, Options{Getenv: func(k string) string {
		if k == "VAULT_TOKEN" {
			return "s.tmplruns-own-token"
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	deadline := time.Now().Add(30 * time.Second)
	for {
		s := a.Snapshot()
		if got := s.Tasks[0]; got.State == "starting" && strings.Contains(got.LastError, "vault unreachable") {
			if !strings.Contains(got.LastError, "tmplrun's own login to vault cluster default") {
				t.Errorf("last_error = %q: want it to say tmplrun's own login failed", got.LastError)
			}
			if strings.Contains(got.LastError, "s.tmplruns-own-token") {
				t.Error("the token appears in the status")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reason in the status of the waiting task: %+v", s.Tasks[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A task that fails while it was waiting for its token (Vault was
// unreachable, then refused the login) shows the failure, not the wait.
func TestFailedTaskShowsItsReasonNotTheWait(t *testing.T) {
	t.Parallel()
	tk := &task{spec: &template.Task{Name: "web"}}
	tk.set(stateStarting, "")
	tk.mu.Lock()
	tk.pending = "waiting for its vault token: vault unreachable — retrying"
	tk.mu.Unlock()
	tk.set(stateFailed, "vault: permission denied")
	if got := tk.snapshot(time.Now()); got.State != stateFailed || got.LastError != "vault: permission denied" {
		t.Errorf("snapshot: state %q, last_error %q", got.State, got.LastError)
	}
}

// tmplrun's own login concerns the tasks that derive their token with it
// (policies), not those that log in with a role.
func TestOwnLoginConcernsPolicyTasksOnly(t *testing.T) {
	t.Parallel()
	policies := &task{spec: &template.Task{Name: "web", Vault: &template.Vault{Cluster: "default", Policies: []string{"web"}}}, state: stateStarting}
	role := &task{spec: &template.Task{Name: "db", Vault: &template.Vault{Cluster: "default", Role: "db"}}, state: stateStarting}
	other := &task{spec: &template.Task{Name: "api", Vault: &template.Vault{Cluster: "eu", Policies: []string{"api"}}}, state: stateStarting}
	a := &Agent{tasks: []*task{policies, role, other}}
	a.tokenPending(vaultauth.Event{Kind: vaultauth.EventUnreachable, Cluster: "default", Err: errors.New("connection refused")})
	for _, c := range []struct {
		t    *task
		want bool
	}{{policies, true}, {role, false}, {other, false}} {
		if got := c.t.pending != ""; got != c.want {
			t.Errorf("task %s: waiting on tmplrun's login = %v, want %v (%q)", c.t.spec.Name, got, c.want, c.t.pending)
		}
	}
}
