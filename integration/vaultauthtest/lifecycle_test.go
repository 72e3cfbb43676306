package vaultauthtest

import (
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// A 3 s periodic token is renewed many times in 20 s and never replaced:
// no new token is delivered (so change_mode never fires).
func TestPeriodicTokenRenewedWithoutChange(t *testing.T) {
	t.Parallel()
	r := newRig(t, 3*time.Second)
	cs := r.clusters(t, r.options(t), r.tokenCluster(t))
	task := r.task("web", &template.Vault{Policies: []string{"web"}})
	tok, err := cs.Task(ctxFor(t), task)
	if err != nil {
		t.Fatal(err)
	}
	news, cancel := tok.Subscribe(tok.Token().Generation)
	defer cancel()
	first := tok.Token().Secret()
	r.v.ResetRequests()

	window := time.After(20 * time.Second)
	deliveries := 0
wait:
	for {
		select {
		case <-news:
			deliveries++
		case <-window:
			break wait
		}
	}
	renewals := r.events.count("web", vaultauth.EventRenewed)
	reqs := r.v.Requests()
	t.Logf("20 s of a 3 s periodic token: %d renewals, %d deliveries; Vault served:\n%s", renewals, deliveries, reqs)
	if deliveries != 0 {
		t.Errorf("%d new tokens delivered during renewals, want 0 (change_mode must not fire)", deliveries)
	}
	// Renewed every 1.5–2.1 s: 9–13 times; allow for a slow machine.
	if renewals < 6 {
		t.Errorf("%d renewals in 20 s, want many; events:\n%s", renewals, r.events)
	}
	if got := reqs.Path("auth/token/renew-self"); got != renewals {
		t.Errorf("Vault served %d renew-self requests for %d renewals", got, renewals)
	}
	if reqs.Total() != renewals {
		t.Errorf("Vault served %d requests, want only the %d renewals", reqs.Total(), renewals)
	}
	if tok.Token().Secret() != first || tok.Token().Generation != 1 {
		t.Error("the token changed")
	}
	if got, _ := tokenFile(t, task); got != first {
		t.Error("the token file changed")
	}
	if info, ok := r.v.LookupToken(first); !ok || !info.ExpireTime.After(time.Now()) {
		t.Errorf("the token is not alive after 20 s: %+v", info)
	}
	if st := tok.Status(); st.State != vaultauth.StateHealthy || st.Renewals != renewals || st.LastRenewal.IsZero() {
		t.Errorf("status = %+v", st)
	}
}

// A token revoked from outside is replaced: one new token, delivered
// once, written to the file; the old one stays dead; renewals go on.
func TestRevokedTokenReplacedOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, 3*time.Second)
	cs := r.clusters(t, r.options(t), r.tokenCluster(t))
	task := r.task("web", &template.Vault{Policies: []string{"web"}})
	tok, err := cs.Task(ctxFor(t), task)
	if err != nil {
		t.Fatal(err)
	}
	news, cancel := tok.Subscribe(tok.Token().Generation)
	defer cancel()
	old := tok.Token().Secret()
	r.v.ResetRequests()

	r.v.RevokeToken(old)
	var got vaultauth.Token
	select {
	case got = <-news:
	case <-time.After(20 * time.Second):
		t.Fatalf("no new token 20 s after the revocation; events:\n%s", r.events)
	}
	if got.Generation != 2 || got.Secret() == old || got.Secret() != tok.Token().Secret() {
		t.Errorf("delivered %v; want generation 2, a new secret, the current one", got)
	}
	if file, _ := tokenFile(t, task); file != got.Secret() {
		t.Error("the token file does not hold the new token when it is delivered")
	}
	if info, ok := r.v.LookupToken(got.Secret()); !ok || len(info.Policies) != 2 {
		t.Errorf("the new token: %+v, %v", info, ok)
	}
	// Two more renewals of the new token, and still one delivery.
	renewed := r.events.count("web", vaultauth.EventRenewed)
	r.events.waitFor(t, "web", vaultauth.EventRenewed, renewed+2, 20*time.Second)
	select {
	case tok := <-news:
		t.Errorf("a second delivery: %v", tok)
	default:
	}
	if n := r.events.count("web", vaultauth.EventReplaced); n != 1 {
		t.Errorf("%d replacements, want 1", n)
	}
	reqs := r.v.Requests()
	t.Logf("revocation → replacement; Vault served:\n%s", reqs)
	if n := reqs.Path("auth/token/create/" + TokenRole); n != 1 {
		t.Errorf("%d derivations after the revocation, want 1", n)
	}
}

// A 10 s outage while a renewal is due: retries, no new token, no
// delivery, and renewal again once Vault is back.
func TestOutageDuringRenewal(t *testing.T) {
	t.Parallel()
	r := newRig(t, 16*time.Second)
	opts := r.options(t)
	// Renew at exactly half the TTL (8 s), so that the renewal falls in
	// the outage; retries as by default.
	opts.Schedule = vaultauth.DefaultSchedule
	opts.Schedule.RenewWindow = [2]float64{0.5, 0.5}
	cs := r.clusters(t, opts, r.tokenCluster(t))
	task := r.task("web", &template.Vault{Policies: []string{"web"}})
	tok, err := cs.Task(ctxFor(t), task)
	if err != nil {
		t.Fatal(err)
	}
	news, cancel := tok.Subscribe(tok.Token().Generation)
	defer cancel()
	first := tok.Token().Secret()

	back := r.v.Outage(10 * time.Second)
	r.events.waitFor(t, "web", vaultauth.EventUnreachable, 1, 15*time.Second)
	if st := tok.Status(); st.State != vaultauth.StateUnreachable || st.Failures < 1 || st.LastError == "" {
		t.Errorf("status during the outage = %+v", st)
	}
	<-back
	r.events.waitFor(t, "web", vaultauth.EventRenewed, 1, 15*time.Second)

	attempts := r.sent.get("auth/token/renew-self")
	t.Logf("10 s outage: %d renewal attempts (1 succeeded); events:\n%s", attempts, r.events)
	if attempts < 2 {
		t.Errorf("%d renewal attempts, want retries", attempts)
	}
	if n := r.events.count("web", vaultauth.EventReachable); n != 1 {
		t.Errorf("%d 'reachable' events, want 1", n)
	}
	if n := r.events.count("web", vaultauth.EventUnreachable); n != 1 {
		t.Errorf("%d 'unreachable' events, want 1 (once per outage)", n)
	}
	select {
	case tok := <-news:
		t.Errorf("a new token was delivered: %v", tok)
	default:
	}
	if tok.Token().Secret() != first || r.events.count("web", vaultauth.EventReplaced) != 0 {
		t.Error("the token was replaced")
	}
	if st := tok.Status(); st.State != vaultauth.StateHealthy || st.Failures != 0 {
		t.Errorf("status after recovery = %+v", st)
	}
	if _, ok := r.v.LookupToken(first); !ok {
		t.Error("the token died")
	}
}

// A token that cannot be renewed is replaced before it expires: a new
// token is delivered (change_mode fires, as it must), and the task never
// holds an expired token.
func TestNonRenewableTokenReplacedBeforeExpiry(t *testing.T) {
	t.Parallel()
	// Token roles have no token_ttl: the max TTL sets the lifetime.
	r := newRigRole(t, vaulttest.TokenRole{MaxTTL: 5 * time.Second, NotRenewable: true})
	cs := r.clusters(t, r.options(t), r.tokenCluster(t))
	task := r.task("web", &template.Vault{Policies: []string{"web"}})
	tok, err := cs.Task(ctxFor(t), task)
	if err != nil {
		t.Fatal(err)
	}
	news, cancel := tok.Subscribe(tok.Token().Generation)
	defer cancel()
	old := tok.Token()
	select {
	case got := <-news:
		// Replaced at 80–90 % of 5 s: the old token was still valid.
		if age := got.Obtained.Sub(old.Obtained); age < 4*time.Second || age >= 5*time.Second {
			t.Errorf("replaced %v after it was obtained, want in [4s, 4.5s)", age)
		}
		if file, _ := tokenFile(t, task); file != got.Secret() {
			t.Error("the file does not hold the new token")
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no replacement; events:\n%s", r.events)
	}
	if n := r.sent.get("auth/token/renew-self"); n != 0 {
		t.Errorf("%d renewals of a token that cannot be renewed", n)
	}
}

// allow_token_expiration: never renewed, never replaced; its expiry is
// reported and nothing else happens.
func TestAllowTokenExpiration(t *testing.T) {
	t.Parallel()
	r := newRigRole(t, vaulttest.TokenRole{MaxTTL: 3 * time.Second})
	cs := r.clusters(t, r.options(t), r.tokenCluster(t))
	task := r.task("web", &template.Vault{Policies: []string{"web"}, AllowTokenExpiration: true})
	tok, err := cs.Task(ctxFor(t), task)
	if err != nil {
		t.Fatal(err)
	}
	news, cancel := tok.Subscribe(tok.Token().Generation)
	defer cancel()
	r.events.waitFor(t, "web", vaultauth.EventExpired, 1, 15*time.Second)
	if st := tok.Status(); st.State != vaultauth.StateExpired {
		t.Errorf("state %v, want expired", st.State)
	}
	if n := r.sent.get("auth/token/renew-self"); n != 0 {
		t.Errorf("%d renewals with allow_token_expiration", n)
	}
	select {
	case got := <-news:
		t.Errorf("a new token was delivered: %v", got)
	default:
	}
}

// A renewable token whose max TTL caps its renewals is renewed while
// renewing helps, then replaced before the max TTL: one new token.
func TestMaxTTLTokenReplacedBeforeExpiry(t *testing.T) {
	t.Parallel()
	r := newRigRole(t, vaulttest.TokenRole{Period: 4 * time.Second, MaxTTL: 10 * time.Second})
	cs := r.clusters(t, r.options(t), r.tokenCluster(t))
	task := r.task("web", &template.Vault{Policies: []string{"web"}})
	tok, err := cs.Task(ctxFor(t), task)
	if err != nil {
		t.Fatal(err)
	}
	news, cancel := tok.Subscribe(tok.Token().Generation)
	defer cancel()
	old := tok.Token()
	select {
	case got := <-news:
		if age := got.Obtained.Sub(old.Obtained); age >= 10*time.Second {
			t.Errorf("replaced %v after it was obtained: the old token had expired", age)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no replacement; events:\n%s", r.events)
	}
	renewals := r.events.count("web", vaultauth.EventRenewed)
	t.Logf("period 4 s, max TTL 10 s: %d renewals, then replaced; events:\n%s", renewals, r.events)
	if renewals < 2 {
		t.Errorf("%d renewals before the replacement, want the renewals that still helped", renewals)
	}
}
