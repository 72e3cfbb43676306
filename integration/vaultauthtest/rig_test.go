package vaultauthtest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// TokenRole is the token role task tokens are created through.
const TokenRole = "tmplrun-task"

// tmplrunPolicy lets tmplrun's own token create task tokens through
// TokenRole, and nothing else (renew/lookup/revoke-self are in default).
const tmplrunPolicy = `path "auth/token/create/` + TokenRole + `" { capabilities = ["update"] }`

// rig is a Vault set up for tmplrun, with an event log and a count of
// the requests vaultauth sent (attempts included, answered or not).
type rig struct {
	v      *vaulttest.Vault
	dir    string
	events *eventLog
	sent   *sentCounter
}

// newRig starts Vault with the policies web and db, tmplrun's policy, and
// a token role allowing web and db whose tokens have the given period.
func newRig(t *testing.T, period time.Duration) *rig {
	return newRigRole(t, vaulttest.TokenRole{Period: period})
}

// newRigRole is newRig with the token role's lifetimes given.
func newRigRole(t *testing.T, role vaulttest.TokenRole) *rig {
	t.Helper()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("web", `path "secret/data/web/*" { capabilities = ["read"] }`)
	v.PutPolicy("db", `path "secret/data/db/*" { capabilities = ["read"] }`)
	v.PutPolicy("tmplrun", tmplrunPolicy)
	role.AllowedPolicies, role.Orphan = []string{"web", "db"}, true
	v.CreateTokenRole(TokenRole, role)
	return &rig{v: v, dir: t.TempDir(), events: newEventLog(), sent: &sentCounter{n: map[string]int{}}}
}

// options are vaultauth options that log events to the rig, count
// requests, and read no environment.
func (r *rig) options(t *testing.T) vaultauth.Options {
	return vaultauth.Options{
		OnEvent:       r.events.add,
		Getenv:        func(string) string { return "" },
		WrapTransport: r.sent.wrap,
		Node:          "node-1",
	}
}

// tokenCluster is the default cluster logging in with a token file that
// holds a periodic (1h) token with the tmplrun policy.
func (r *rig) tokenCluster(t *testing.T) *template.VaultCluster {
	t.Helper()
	own := r.v.CreateToken(vaulttest.TokenOptions{Policies: []string{"tmplrun"}, Period: time.Hour, Orphan: true})
	file := r.writeFile(t, "own-token", own)
	c := &template.VaultCluster{
		Address:        r.v.Addr,
		CreateFromRole: TokenRole,
		Auth:           &template.Auth{Method: template.AuthToken, TokenFile: file},
	}
	canonical(c)
	return c
}

func canonical(c *template.VaultCluster) {
	cfg := &template.Config{Vaults: []*template.VaultCluster{c}}
	cfg.Canonicalize()
}

func (r *rig) writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clusters prepares the clusters and closes them when the test ends.
func (r *rig) clusters(t *testing.T, opts vaultauth.Options, blocks ...*template.VaultCluster) *vaultauth.Clusters {
	t.Helper()
	cs, err := vaultauth.NewClusters(blocks, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cs.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return cs
}

// task is a task block with a canonical vault block.
func (r *rig) task(name string, v *template.Vault) *template.Task {
	v.Canonicalize()
	return &template.Task{Name: name, Dir: filepath.Join(r.dir, name), Vault: v}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// tokenFile reads a task's token file and its mode.
func tokenFile(t *testing.T, task *template.Task) (string, os.FileMode) {
	t.Helper()
	p := filepath.Join(task.Dir, vaultauth.TokenFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), fi.Mode().Perm()
}

// eventLog records events and lets a test wait for one.
type eventLog struct {
	mu     sync.Mutex
	events []vaultauth.Event
	added  chan struct{}
}

func newEventLog() *eventLog { return &eventLog{added: make(chan struct{}, 1)} }

func (l *eventLog) add(e vaultauth.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	select {
	case l.added <- struct{}{}:
	default:
	}
}

func (l *eventLog) all() []vaultauth.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]vaultauth.Event(nil), l.events...)
}

// count counts the events of task ("" for tmplrun's own) and kind.
func (l *eventLog) count(task string, kind vaultauth.EventKind) int {
	n := 0
	for _, e := range l.all() {
		if e.Task == task && e.Kind == kind {
			n++
		}
	}
	return n
}

// waitFor waits until n events of task and kind have happened.
func (l *eventLog) waitFor(t *testing.T, task string, kind vaultauth.EventKind, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for l.count(task, kind) < n {
		select {
		case <-l.added:
		case <-deadline:
			t.Fatalf("after %v: %d %q events of task %q, want %d; events:\n%s", timeout, l.count(task, kind), kind, task, n, l)
		}
	}
}

func (l *eventLog) String() string {
	var b strings.Builder
	for _, e := range l.all() {
		b.WriteString(e.Time.Format("15:04:05.000 ") + e.Task + ": " + e.String() + "\n")
	}
	return b.String()
}

// sentCounter counts the requests vaultauth sends, by path, whether Vault
// answers or not (Vault's own count misses those sent while it is down).
type sentCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *sentCounter) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		c.mu.Lock()
		c.n[strings.TrimPrefix(req.URL.Path, "/v1/")]++
		c.mu.Unlock()
		return next.RoundTrip(req)
	})
}

func (c *sentCounter) get(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
