package vaultauth

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A renewal cut short by a max TTL fixes the token's expiry: renewing
// again cannot help, so it is replaced before it expires.
func TestKeeperCappedRenewalIsReplaced(t *testing.T) {
	t.Parallel()
	src := &fakeSource{ttl: 10 * time.Second, renews: []result{{g: &grant{ttl: 10 * time.Second, renewable: true}}, {g: &grant{ttl: 4 * time.Second, renewable: true}}}}
	r := newRig(t, src, false)
	r.start(t)
	r.clk.fire(t) // 5 s: renewed, 10 s
	r.clk.fire(t) // 10 s: renewed, only 4 s: capped
	if d := r.clk.fire(t); d != 3*time.Second {
		t.Errorf("replaced %v after the capped renewal, want 3s (80 %% of 4 s, but Slack before expiry)", d)
	}
	r.settle(t)
	if diff := cmp.Diff([]string{"obtain", "renew", "renew", "obtain"}, src.callLog()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if n := len(r.replaced); n != 1 {
		t.Errorf("%d tokens delivered, want 1", n)
	}
}

// A supplied token looked up with little TTL left is renewed to its full
// TTL, which becomes the measure of a full renewal.
func TestKeeperBaseGrowsWithRenewal(t *testing.T) {
	t.Parallel()
	src := &fakeSource{ttl: time.Hour, obtains: []result{{g: &grant{token: "s.supplied", ttl: 10 * time.Minute, renewable: true}}}}
	r := newRig(t, src, false)
	r.start(t)
	r.clk.fire(t) // 5 min: renewed to 1 h
	r.settle(t)
	st := r.k.status()
	if st.Next.Step != StepRenew || st.TTL != time.Hour {
		t.Errorf("after a full renewal: %+v, want a renewal planned", st)
	}
	r.k.mu.Lock()
	base := r.k.st.Lease.Base
	r.k.mu.Unlock()
	if base != time.Hour {
		t.Errorf("base %v, want 1h", base)
	}
}

// A supplied token that cannot be renewed any more is "replaced" by
// reading the same token again: that is no new token, so nothing is
// delivered, and the attempts back off instead of closing in on its
// expiry.
func TestKeeperSameTokenIsNoReplacement(t *testing.T) {
	t.Parallel()
	same := &grant{token: "s.supplied", ttl: time.Minute}
	src := &fakeSource{obtains: []result{{g: same}, {g: same}, {g: same}, {g: same}}}
	r := newRig(t, src, false)
	r.start(t)
	for range 3 {
		r.clk.fire(t)
	}
	r.settle(t)
	wantDelays := []time.Duration{48 * time.Second, time.Second, 2 * time.Second, 4 * time.Second}
	if diff := cmp.Diff(wantDelays, r.clk.delayLog()); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
	if n := len(r.replaced); n != 0 {
		t.Errorf("%d tokens delivered, want 0", n)
	}
	if st := r.k.status(); st.Generation != 1 || !strings.Contains(st.LastError, "same token") {
		t.Errorf("status = %+v", st)
	}
}

// A token judged dead that Vault accepts again (the supplied token file
// still holds it, and it works) is taken back without a new generation.
func TestKeeperRevivesTheSameToken(t *testing.T) {
	t.Parallel()
	src := &fakeSource{ttl: time.Hour, verifies: []error{errDenied}, obtains: []result{{}, {g: &grant{token: "s.secret-1", ttl: time.Hour, renewable: true}}}}
	r := newRig(t, src, false)
	r.start(t)
	r.settle(t)
	r.k.suspect()
	waitCalls(t, src, 3)
	r.settle(t)
	if st := r.k.status(); st.Generation != 1 || st.State != StateHealthy || len(r.replaced) != 0 {
		t.Errorf("status = %+v, %d delivered", st, len(r.replaced))
	}
}
