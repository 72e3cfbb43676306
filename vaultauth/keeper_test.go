package vaultauth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// keeperRig runs a keeper on a fake clock and a scripted source.
type keeperRig struct {
	k        *keeper
	clk      *fakeClock
	src      *fakeSource
	events   *eventLog
	replaced chan Token
	renewed  atomic.Int32
}

func newRig(t *testing.T, src *fakeSource, allowExpiration bool) *keeperRig {
	t.Helper()
	r := &keeperRig{clk: newFakeClock(), src: src, events: &eventLog{}, replaced: make(chan Token, 100)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	em := emitter{cluster: "default", task: "web", now: r.clk.Now, on: r.events.add, log: log}
	r.k = newKeeper(src, DefaultSchedule, r.clk, func() float64 { return 0 }, em)
	r.k.allowExpiration = allowExpiration
	r.k.replaced = func(tok Token) { r.replaced <- tok }
	r.k.renewed = func(Token) { r.renewed.Add(1) }
	return r
}

// start obtains the first token and runs the loop until the test ends.
func (r *keeperRig) start(t *testing.T) {
	t.Helper()
	if err := r.k.first(context.Background()); err != nil {
		t.Fatalf("first: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.k.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// settle waits until the loop waits on its next timer.
func (r *keeperRig) settle(t *testing.T) { r.clk.waitTimer(t) }

func TestKeeperRenewalsDeliverNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, &fakeSource{ttl: 3 * time.Second}, false)
	r.start(t)
	for range 10 {
		if d := r.clk.fire(t); d != 1500*time.Millisecond {
			t.Fatalf("renewal after %v, want 1.5s", d)
		}
	}
	r.settle(t)
	want := append([]string{"obtain"}, strings.Split(strings.Repeat("renew ", 10), " ")[:10]...)
	if diff := cmp.Diff(want, r.src.callLog()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if n := len(r.replaced); n != 0 {
		t.Errorf("%d tokens delivered, want 0", n)
	}
	if n := r.renewed.Load(); n != 10 {
		t.Errorf("renewed hook ran %d times, want 10", n)
	}
	st := r.k.status()
	if st.Renewals != 10 || st.Generation != 1 || st.State != StateHealthy {
		t.Errorf("status = %+v, want 10 renewals of generation 1, healthy", st)
	}
	kinds := r.events.kinds()
	if kinds[0] != EventObtained || len(kinds) != 11 {
		t.Errorf("events = %v, want obtained + 10 renewed", kinds)
	}
}

func TestKeeperRevokedTokenIsReplacedOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, &fakeSource{ttl: 3 * time.Second, renews: []result{{err: errDenied}}}, false)
	r.start(t)
	r.clk.fire(t)
	r.settle(t)
	if diff := cmp.Diff([]string{"obtain", "renew", "obtain"}, r.src.callLog()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if n := len(r.replaced); n != 1 {
		t.Fatalf("%d tokens delivered, want 1", n)
	}
	tok := <-r.replaced
	if tok.Generation != 2 || tok.Secret() != "s.secret-2" {
		t.Errorf("delivered %v (%q), want generation 2", tok, tok.Secret())
	}
	want := []EventKind{EventObtained, EventRenewFailed, EventReplaced}
	if diff := cmp.Diff(want, r.events.kinds()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if ev := r.events.all()[1]; !ev.Hard {
		t.Errorf("renewal failure not hard: %+v", ev)
	}
}

func TestKeeperOutageKeepsToken(t *testing.T) {
	t.Parallel()
	src := &fakeSource{ttl: time.Minute, renews: []result{{err: errRefused}, {err: errRefused}, {err: errRefused}}}
	r := newRig(t, src, false)
	r.start(t)
	for range 4 {
		r.clk.fire(t)
	}
	r.settle(t)
	if diff := cmp.Diff([]string{"obtain", "renew", "renew", "renew", "renew"}, src.callLog()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// Renew at 30 s, then retries after 1, 2 and 4 s; then the next
	// renewal 30 s later.
	wantDelays := []time.Duration{30 * time.Second, time.Second, 2 * time.Second, 4 * time.Second, 30 * time.Second}
	if diff := cmp.Diff(wantDelays, r.clk.delayLog()); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
	if n := len(r.replaced); n != 0 {
		t.Errorf("%d tokens delivered, want 0", n)
	}
	want := []EventKind{EventObtained, EventUnreachable, EventReachable, EventRenewed}
	if diff := cmp.Diff(want, r.events.kinds()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if st := r.k.status(); st.State != StateHealthy || st.Failures != 0 || st.LastError != "" {
		t.Errorf("status after recovery = %+v", st)
	}
}

func TestKeeperStatusDuringOutage(t *testing.T) {
	t.Parallel()
	src := &fakeSource{ttl: time.Minute, renews: []result{{err: errRefused}, {err: errInternal}}}
	r := newRig(t, src, false)
	r.start(t)
	r.clk.fire(t)
	r.settle(t)
	st := r.k.status()
	if st.State != StateUnreachable || st.Failures != 1 || !strings.Contains(st.LastError, "connection refused") {
		t.Errorf("status while unreachable = %+v", st)
	}
	r.clk.fire(t)
	r.settle(t)
	st = r.k.status()
	if st.State != StateRenewing || st.Failures != 2 || !strings.Contains(st.LastError, "500") {
		t.Errorf("status while Vault fails = %+v", st)
	}
}

func TestKeeperTokenExpiredDuringOutageIsReplaced(t *testing.T) {
	t.Parallel()
	src := &fakeSource{ttl: 4 * time.Second, renews: []result{{err: errRefused}, {err: errRefused}}}
	r := newRig(t, src, false)
	r.start(t)
	r.clk.fire(t) // 2 s: renewal refused
	r.clk.fire(t) // 3 s: refused again
	r.clk.fire(t) // 4 s: expired → replace
	r.settle(t)
	if diff := cmp.Diff([]string{"obtain", "renew", "renew", "obtain"}, src.callLog()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if n := len(r.replaced); n != 1 {
		t.Errorf("%d tokens delivered, want 1", n)
	}
	want := []EventKind{EventObtained, EventUnreachable, EventReachable, EventReplaced}
	if diff := cmp.Diff(want, r.events.kinds()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestKeeperHardFailuresBackOff(t *testing.T) {
	t.Parallel()
	src := &fakeSource{
		ttl:     3 * time.Second,
		renews:  []result{{err: errDenied}},
		obtains: []result{{}, {err: errDenied}, {err: errDenied}, {err: errDenied}, {err: errDenied}},
	}
	r := newRig(t, src, false)
	r.start(t)
	for range 5 {
		r.clk.fire(t)
	}
	r.settle(t)
	wantDelays := []time.Duration{1500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 1500 * time.Millisecond}
	if diff := cmp.Diff(wantDelays, r.clk.delayLog()); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
	if n := len(r.replaced); n != 1 {
		t.Errorf("%d tokens delivered, want 1", n)
	}
	var failed int
	for _, e := range r.events.all() {
		if e.Kind == EventObtainFailed {
			failed++
			if !e.Hard || e.Retry <= 0 {
				t.Errorf("obtain failure event %+v: want hard with a retry delay", e)
			}
		}
	}
	if failed != 4 {
		t.Errorf("%d obtain failures reported, want 4", failed)
	}
}

func TestKeeperNonRenewableTokenIsReplacedBeforeExpiry(t *testing.T) {
	t.Parallel()
	g := &grant{token: "s.once", ttl: 10 * time.Second}
	src := &fakeSource{ttl: 10 * time.Second, obtains: []result{{g: g}}}
	r := newRig(t, src, false)
	r.start(t)
	if d := r.clk.fire(t); d != 8*time.Second {
		t.Errorf("replaced after %v, want 8s", d)
	}
	r.settle(t)
	if diff := cmp.Diff([]string{"obtain", "obtain"}, src.callLog()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if n := len(r.replaced); n != 1 {
		t.Errorf("%d tokens delivered, want 1", n)
	}
}

func TestKeeperAllowExpiration(t *testing.T) {
	t.Parallel()
	src := &fakeSource{ttl: 10 * time.Second}
	r := newRig(t, src, true)
	r.start(t)
	if d := r.clk.fire(t); d != 10*time.Second {
		t.Errorf("expiry noted after %v, want 10s", d)
	}
	deadline := time.After(10 * time.Second)
	for r.k.status().State != StateExpired {
		select {
		case <-deadline:
			t.Fatalf("state = %v, want expired", r.k.status().State)
		case <-time.After(time.Millisecond):
		}
	}
	if diff := cmp.Diff([]string{"obtain"}, src.callLog()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]EventKind{EventObtained, EventExpired}, r.events.kinds()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestKeeperSuspectChecksAndReplaces(t *testing.T) {
	t.Parallel()
	src := &fakeSource{ttl: time.Hour, verifies: []error{nil, errDenied}}
	r := newRig(t, src, false)
	r.start(t)
	r.settle(t)
	r.k.suspect() // verify succeeds: nothing changes
	waitCalls(t, src, 2)
	r.k.suspect() // within Retry.Min of the last check: ignored
	r.settle(t)
	r.clk.advance(2 * time.Second)
	r.k.suspect() // verify refused: replaced
	select {
	case tok := <-r.replaced:
		if tok.Generation != 2 {
			t.Errorf("delivered generation %d, want 2", tok.Generation)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no replacement after a refused check")
	}
	if diff := cmp.Diff([]string{"obtain", "verify", "verify", "obtain"}, src.callLog()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func waitCalls(t *testing.T, src *fakeSource, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for len(src.callLog()) < n {
		select {
		case <-deadline:
			t.Fatalf("calls = %v, want %d", src.callLog(), n)
		case <-time.After(time.Millisecond):
		}
	}
}

func TestKeeperFirst(t *testing.T) {
	t.Parallel()
	t.Run("a refusal is returned at once", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, &fakeSource{obtains: []result{{err: errDenied}}}, false)
		err := r.k.first(context.Background())
		if !errors.Is(err, errDenied) {
			t.Fatalf("first() = %v, want the refusal", err)
		}
		if st := r.k.status(); st.State != StateStarting || !strings.Contains(st.LastError, "permission denied") {
			t.Errorf("status = %+v", st)
		}
	})
	t.Run("unreachable Vault is waited for", func(t *testing.T) {
		t.Parallel()
		src := &fakeSource{ttl: time.Hour, obtains: []result{{err: errRefused}, {err: errInternal}}}
		r := newRig(t, src, false)
		errc := make(chan error, 1)
		go func() { errc <- r.k.first(context.Background()) }()
		r.clk.fire(t)
		r.clk.fire(t)
		if err := <-errc; err != nil {
			t.Fatalf("first() = %v", err)
		}
		want := []EventKind{EventUnreachable, EventReachable, EventObtainFailed, EventObtained}
		if diff := cmp.Diff(want, r.events.kinds()); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
	t.Run("context ends the wait", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, &fakeSource{obtains: []result{{err: errRefused}}}, false)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- r.k.first(ctx) }()
		r.clk.waitTimer(t)
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("first() = %v, want context.Canceled", err)
		}
	})
}

func TestEventsNeverShowTheToken(t *testing.T) {
	t.Parallel()
	r := newRig(t, &fakeSource{ttl: 3 * time.Second, renews: []result{{err: errDenied}}}, false)
	r.start(t)
	r.clk.fire(t)
	r.settle(t)
	for _, e := range r.events.all() {
		for _, s := range []string{e.String(), strings.Join(attrStrings(e.attrs()), " ")} {
			if strings.Contains(s, "s.secret") {
				t.Errorf("event shows a token: %s", s)
			}
		}
	}
}

func attrStrings(attrs []slog.Attr) []string {
	var out []string
	for _, a := range attrs {
		out = append(out, a.String())
	}
	return out
}
