package vaultauth

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// keeper keeps one holder's token alive: it obtains the first token, then
// follows Schedule.Next — renewing, replacing, retrying with backoff —
// until its context ends. It is the only goroutine that changes the
// token; Token and Status may be called from any goroutine.
type keeper struct {
	src             source
	sched           Schedule
	clock           clock
	rand            func() float64
	allowExpiration bool
	events          emitter

	// contacted is set once Vault has answered any holder of the
	// cluster (shared by them): from then on, a certificate that does
	// not verify is an outage, not a configuration error.
	contacted *atomic.Bool

	// replaced runs on the loop goroutine, with no lock held, after a new
	// token replaced the old one (not for the first token); renewed after
	// each successful renewal.
	replaced func(Token)
	renewed  func(Token)

	// wake asks the loop to check its token now (capacity 1; a pending
	// request absorbs further ones).
	wake chan struct{}

	mu          sync.Mutex
	tok         Token
	accessor    string
	st          TokenState
	rnd         float64 // jitter for the current plan; redrawn when the state changes
	state       State
	next        Plan
	renewals    int
	lastRenewal time.Time
	lastErr     string
	unreachable bool
	lastCheck   time.Time
}

func newKeeper(src source, sched Schedule, clk clock, rnd func() float64, events emitter) *keeper {
	return &keeper{
		src:    src,
		sched:  sched,
		clock:  clk,
		rand:   rnd,
		events: events,
		wake:   make(chan struct{}, 1),
		st:     TokenState{Dead: true},
		state:  StateStarting,

		contacted: new(atomic.Bool),
	}
}

// saw notes the outcome of a Vault call: whether Vault was reached.
func (k *keeper) saw(err error) {
	if answered(err) {
		k.contacted.Store(true)
	}
}

// first obtains the first token. Vault being unreachable or failing is
// retried with the schedule's backoff until ctx ends; a refusal (bad
// credentials, unknown role, claims that do not match) is returned at
// once: it is a configuration problem that waiting will not fix. So is a
// certificate of Vault's that does not verify, as long as no holder of
// the cluster has reached Vault yet (ErrTLSVerify). When ctx ends first,
// the error says why the attempts failed.
func (k *keeper) first(ctx context.Context) error {
	var last error // the last failure not caused by ctx
	for attempts := 1; ; attempts++ {
		g, err := k.src.obtain(ctx)
		k.saw(err)
		if ctx.Err() != nil {
			// This attempt was cut short: only the ones before it failed.
			return cutShort(ctx, attempts-1, last)
		}
		if err == nil {
			tok, back := k.install(g)
			if back {
				k.events.emit(Event{Kind: EventReachable})
			}
			k.events.emit(Event{Kind: EventObtained, Generation: tok.Generation, TTL: g.ttl})
			return nil
		}
		last = err
		if tlsVerifyFailed(err) && !k.contacted.Load() {
			err = fmt.Errorf("%w: %w", ErrTLSVerify, err) // the certificate error kept
		}
		f := classify(err)
		if f == failHard {
			k.mu.Lock()
			k.lastErr = err.Error()
			k.mu.Unlock()
			return err
		}
		plan := k.softFailure(f, err, EventObtainFailed, StateStarting)
		if !k.sleep(ctx, plan.At) {
			return cutShort(ctx, attempts, last)
		}
	}
}

// cutShort is the error of a first token that ctx cut short: ctx's own
// error, with the reason the attempts before failed.
func cutShort(ctx context.Context, attempts int, last error) error {
	if last == nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w after %d attempts; the last one failed: %w", ctx.Err(), attempts, last)
}

// run is the loop; it returns when ctx ends.
func (k *keeper) run(ctx context.Context) {
	for {
		k.mu.Lock()
		plan := k.sched.Next(k.st, k.clock.Now(), k.rnd)
		k.next = plan
		k.mu.Unlock()

		woken, ok := k.wait(ctx, plan)
		if !ok {
			return
		}
		if woken {
			k.check(ctx)
			continue
		}
		switch plan.Step {
		case StepRenew:
			k.renew(ctx)
		case StepReplace:
			k.replace(ctx)
		case StepExpire:
			k.expire()
		}
	}
}

// wait waits until the plan is due (woken false) or a check is asked
// for (woken true); ok is false when ctx ended.
func (k *keeper) wait(ctx context.Context, p Plan) (woken, ok bool) {
	var due <-chan time.Time
	if p.Step != StepNone {
		d := p.At.Sub(k.clock.Now())
		if d <= 0 {
			return false, ctx.Err() == nil
		}
		c, stop := k.clock.Timer(d)
		defer stop()
		due = c
	}
	select {
	case <-ctx.Done():
		return false, false
	case <-due:
		return false, true
	case <-k.wake:
		return true, true
	}
}

// sleep waits until at; false when ctx ended first.
func (k *keeper) sleep(ctx context.Context, at time.Time) bool {
	d := at.Sub(k.clock.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	c, stop := k.clock.Timer(d)
	defer stop()
	select {
	case <-ctx.Done():
		return false
	case <-c:
		return true
	}
}

// suspect asks the loop to check the token soon: a caller saw Vault
// refuse it. Never blocks.
func (k *keeper) suspect() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

func (k *keeper) renew(ctx context.Context) {
	k.mu.Lock()
	tok, exp := k.tok, k.st.Lease.Expiry()
	k.mu.Unlock()
	if !exp.IsZero() && !k.clock.Now().Before(exp) {
		// It expired while the renewal was being retried: renewing it
		// cannot work.
		k.replace(ctx)
		return
	}
	g, err := k.src.renew(ctx, tok.secret)
	k.saw(err)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		if f := classify(err); f != failHard {
			k.softFailure(f, err, EventRenewFailed, StateRenewing)
			return
		}
		k.refused(err)
		return
	}
	now := k.clock.Now()
	k.mu.Lock()
	k.st.Lease.TTL = g.ttl
	k.st.Lease.Base = max(k.st.Lease.Base, g.ttl)
	k.st.Lease.Renewable = g.renewable
	k.st.Lease.Granted = now
	k.st.Failures, k.st.Hard = 0, false
	k.renewals++
	k.lastRenewal = now
	k.state, k.lastErr = StateHealthy, ""
	k.rnd = k.rand()
	back := k.unreachable
	k.unreachable = false
	k.mu.Unlock()
	if back {
		k.events.emit(Event{Kind: EventReachable})
	}
	k.events.emit(Event{Kind: EventRenewed, Generation: tok.Generation, TTL: g.ttl})
	if k.renewed != nil {
		k.renewed(tok)
	}
}

func (k *keeper) replace(ctx context.Context) {
	g, err := k.src.obtain(ctx)
	k.saw(err)
	if ctx.Err() != nil {
		return
	}
	if err == nil && g.token == k.token().secret {
		if k.revive(g) {
			return
		}
		// The token the user supplied (auth "token") is still the one in
		// its file: there is nothing new to replace it with yet.
		err = errSameToken
	}
	if err != nil {
		f := classify(err)
		if f != failHard {
			k.softFailure(f, err, EventObtainFailed, StateRederiving)
			return
		}
		now := k.clock.Now()
		k.mu.Lock()
		k.st.Failures++
		k.st.Hard = true
		k.state, k.lastErr = StateRederiving, err.Error()
		k.rnd = k.rand()
		plan := k.sched.Next(k.st, now, k.rnd)
		back := k.unreachable
		k.unreachable = false
		gen := k.tok.Generation
		k.mu.Unlock()
		if back {
			k.events.emit(Event{Kind: EventReachable})
		}
		k.events.emit(Event{Kind: EventObtainFailed, Generation: gen, Hard: true, Retry: plan.At.Sub(now), Err: err})
		return
	}
	tok, back := k.install(g)
	if back {
		k.events.emit(Event{Kind: EventReachable})
	}
	k.events.emit(Event{Kind: EventReplaced, Generation: tok.Generation, TTL: g.ttl})
	if k.replaced != nil {
		k.replaced(tok)
	}
}

func (k *keeper) expire() {
	k.mu.Lock()
	k.state = StateExpired
	gen := k.tok.Generation
	k.mu.Unlock()
	k.events.emit(Event{Kind: EventExpired, Generation: gen})
}

// check verifies the token after suspect, at most once per Retry.Min.
func (k *keeper) check(ctx context.Context) {
	now := k.clock.Now()
	k.mu.Lock()
	if k.st.Dead || k.tok.IsZero() || now.Sub(k.lastCheck) < k.sched.Retry.Min {
		k.mu.Unlock()
		return
	}
	k.lastCheck = now
	tok := k.tok
	k.mu.Unlock()
	err := k.src.verify(ctx, tok.secret)
	k.saw(err)
	if ctx.Err() != nil || err == nil || classify(err) != failHard {
		return
	}
	k.refused(err)
}

// install makes g the current token; back reports that Vault had been
// unreachable before.
func (k *keeper) install(g *grant) (tok Token, back bool) {
	now := k.clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.tok = Token{secret: g.token, Generation: k.tok.Generation + 1, Obtained: now, Policies: g.policies}
	k.accessor = g.accessor
	k.st = TokenState{
		Lease:           Lease{TTL: g.ttl, Base: g.ttl, Renewable: g.renewable, Granted: now},
		AllowExpiration: k.allowExpiration,
	}
	k.state, k.lastErr = StateHealthy, ""
	k.rnd = k.rand()
	back = k.unreachable
	k.unreachable = false
	return k.tok, back
}

func (k *keeper) token() Token {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tok
}

// stopped marks the holder stopped and returns its last token.
func (k *keeper) stopped() Token {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.state = StateStopped
	k.next = Plan{}
	return k.tok
}

func (k *keeper) status() Status {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.st.Lease
	s := Status{
		Cluster:     k.events.cluster,
		Task:        k.events.task,
		State:       k.state,
		Generation:  k.tok.Generation,
		Policies:    append([]string(nil), k.tok.Policies...),
		TTL:         l.TTL,
		Renewable:   l.Renewable,
		Obtained:    k.tok.Obtained,
		LastRenewal: k.lastRenewal,
		Renewals:    k.renewals,
		Next:        k.next,
		Failures:    k.st.Failures,
		LastError:   k.lastErr,
	}
	if !k.tok.IsZero() {
		s.Expires = l.Expiry()
	}
	return s
}
