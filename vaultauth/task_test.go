package vaultauth

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/template"
)

// taskRig is a TaskToken on a scripted source and a fake clock: what the
// handle does with tokens, without Vault. Revocation needs Vault and is
// covered by the integration tests.
type taskRig struct {
	tt     *TaskToken
	clk    *fakeClock
	src    *fakeSource
	events *eventLog
	dir    string
}

func newTaskRig(t *testing.T, src *fakeSource, v *template.Vault) *taskRig {
	t.Helper()
	r := &taskRig{clk: newFakeClock(), src: src, events: &eventLog{}, dir: filepath.Join(t.TempDir(), "web")}
	c, err := New(&template.VaultCluster{Name: "default", Address: "http://127.0.0.1:1"}, Options{
		OnEvent: r.events.add,
		Getenv:  func(string) string { return "" },
		clock:   r.clk,
		rand:    func() float64 { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	v.Canonicalize()
	dir := r.dir
	if v.DisableFile {
		dir = ""
	}
	r.tt, err = c.start(context.Background(), c.newTaskToken("web", v, v.Namespace), src, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.tt.Stop(context.Background(), false) })
	return r
}

func (r *taskRig) file(t *testing.T) (string, os.FileMode) {
	t.Helper()
	p := filepath.Join(r.dir, TokenFile)
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

func TestTaskTokenFile(t *testing.T) {
	t.Parallel()
	r := newTaskRig(t, &fakeSource{ttl: 3 * time.Second, renews: []result{{}, {err: errDenied}}}, &template.Vault{Policies: []string{"web"}})
	got, perm := r.file(t)
	if got != "s.secret-1" || perm != 0o600 {
		t.Errorf("token file = %q mode %v, want the first token, 0600", got, perm)
	}
	fi, err := os.Stat(filepath.Join(r.dir, template.SecretsDir))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("secrets dir: %v, %v; want mode 0700", fi.Mode(), err)
	}

	// Someone deletes the file: the next renewal writes it again.
	if err := os.Remove(filepath.Join(r.dir, TokenFile)); err != nil {
		t.Fatal(err)
	}
	r.clk.fire(t)
	r.clk.waitTimer(t)
	if got, _ := r.file(t); got != "s.secret-1" {
		t.Errorf("after a renewal the file holds %q, want the same token", got)
	}

	// Vault refuses the token: a new one is written.
	r.clk.fire(t)
	r.clk.waitTimer(t)
	if got, _ := r.file(t); got != "s.secret-2" {
		t.Errorf("after a replacement the file holds %q, want the new token", got)
	}
}

func TestTaskTokenDisableFile(t *testing.T) {
	t.Parallel()
	r := newTaskRig(t, &fakeSource{ttl: time.Hour}, &template.Vault{Policies: []string{"web"}, DisableFile: true})
	if _, err := os.Stat(r.dir); !os.IsNotExist(err) {
		t.Errorf("task dir exists (%v) although disable_file", err)
	}
}

func TestTaskTokenSubscribe(t *testing.T) {
	t.Parallel()
	src := &fakeSource{ttl: 3 * time.Second, renews: []result{{}, {}, {err: errDenied}, {}, {err: errDenied}}}
	r := newTaskRig(t, src, &template.Vault{Policies: []string{"web"}})
	first := r.tt.Token()
	current, cancelCurrent := r.tt.Subscribe(first.Generation)
	all, cancelAll := r.tt.Subscribe(0)
	defer cancelAll()

	// Subscribe(0) is primed with the token it did not know of.
	if tok := <-all; tok.Generation != 1 {
		t.Fatalf("Subscribe(0) first got generation %d, want 1", tok.Generation)
	}
	// Two renewals: nothing delivered.
	r.clk.fire(t)
	r.clk.fire(t)
	r.clk.waitTimer(t)
	if len(current) != 0 {
		t.Fatalf("a renewal was delivered: %v", <-current)
	}
	// Refused: generation 2 delivered once; the file is already written.
	r.clk.fire(t)
	r.clk.waitTimer(t)
	tok := <-current
	if tok.Generation != 2 {
		t.Errorf("delivered generation %d, want 2", tok.Generation)
	}
	if got, _ := r.file(t); got != tok.Secret() {
		t.Errorf("file holds %q when the token was delivered, want %q", got, tok.Secret())
	}
	if len(current) != 0 {
		t.Errorf("more than one delivery for one new token")
	}
	// Renewal, then refused again: the unread generation 2 on `all` is
	// replaced by generation 3.
	r.clk.fire(t)
	r.clk.fire(t)
	r.clk.waitTimer(t)
	if tok := <-all; tok.Generation != 3 {
		t.Errorf("a slow subscriber got generation %d, want the newest, 3", tok.Generation)
	}
	cancelCurrent()
	cancelCurrent()
	if tok := <-current; tok.Generation != 3 {
		t.Errorf("buffered token after cancel: generation %d, want 3", tok.Generation)
	}
	if _, ok := <-current; ok {
		t.Error("channel open after cancel")
	}
	if err := r.tt.Stop(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-all; ok {
		t.Error("channel open after Stop")
	}
	late, _ := r.tt.Subscribe(0)
	if _, ok := <-late; ok {
		t.Error("Subscribe after Stop returned an open channel")
	}
	// Stop without revoke leaves the file for the restarted task.
	if got, _ := r.file(t); got != "s.secret-3" {
		t.Errorf("file after Stop(revoke=false) = %q", got)
	}
}

func TestTaskTokenEnv(t *testing.T) {
	t.Parallel()
	no := false
	tests := []struct {
		name  string
		vault *template.Vault
		want  map[string]string
	}{
		{"default: token only", &template.Vault{Policies: []string{"web"}},
			map[string]string{"VAULT_TOKEN": "s.secret-1"}},
		{"with a namespace", &template.Vault{Policies: []string{"web"}, Namespace: "team-a"},
			map[string]string{"VAULT_TOKEN": "s.secret-1", "VAULT_NAMESPACE": "team-a"}},
		{"env = false", &template.Vault{Policies: []string{"web"}, Env: &no}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newTaskRig(t, &fakeSource{ttl: time.Hour}, tt.vault)
			if diff := cmp.Diff(tt.want, r.tt.Env()); diff != "" {
				t.Errorf("Env() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTaskTokenStatus(t *testing.T) {
	t.Parallel()
	r := newTaskRig(t, &fakeSource{ttl: 3 * time.Second}, &template.Vault{Policies: []string{"web"}})
	r.clk.fire(t)
	r.clk.waitTimer(t)
	st := r.tt.Status()
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	want := Status{
		Cluster:     "default",
		Task:        "web",
		State:       StateHealthy,
		Generation:  1,
		Policies:    []string{"default", "web"},
		TTL:         3 * time.Second,
		Renewable:   true,
		Expires:     t0.Add(4500 * time.Millisecond),
		Obtained:    t0,
		LastRenewal: t0.Add(1500 * time.Millisecond),
		Renewals:    1,
		Next:        Plan{StepRenew, t0.Add(3 * time.Second)},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("Status() (-want +got):\n%s", diff)
	}
}

func TestStatusRemaining(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    Status
		want time.Duration
	}{
		{"no token", Status{}, 0},
		{"never expires", Status{Generation: 1}, -1},
		{"left", Status{Generation: 1, Expires: t0.Add(time.Minute)}, time.Minute},
		{"expired", Status{Generation: 1, Expires: t0.Add(-time.Second)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.s.Remaining(t0); got != tt.want {
				t.Errorf("Remaining() = %v, want %v", got, tt.want)
			}
		})
	}
}
