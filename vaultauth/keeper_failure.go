package vaultauth

import "errors"

// errSameToken: a replacement was due but the source gave back the token
// already held.
var errSameToken = errors.New("no new token: the token source gave back the same token (for auth \"token\", put a new token in token_file)")

// revive takes back g, the token already held, when it had been judged
// dead but Vault now accepts it: the same generation, a fresh lease.
// It reports false when the token was not dead.
func (k *keeper) revive(g *grant) bool {
	now := k.clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.st.Dead {
		return false
	}
	k.st = TokenState{
		Lease:           Lease{TTL: g.ttl, Base: g.ttl, Renewable: g.renewable, Granted: now},
		AllowExpiration: k.allowExpiration,
	}
	k.state, k.lastErr = StateHealthy, ""
	k.rnd = k.rand()
	k.unreachable = false
	return true
}

// refused records that Vault refused the current token: it is dead and
// a new one is obtained at once.
func (k *keeper) refused(err error) {
	k.mu.Lock()
	k.st.Dead = true
	k.st.Failures, k.st.Hard = 0, true
	k.state, k.lastErr = StateRederiving, err.Error()
	back := k.unreachable
	k.unreachable = false
	gen := k.tok.Generation
	k.mu.Unlock()
	if back {
		k.events.emit(Event{Kind: EventReachable})
	}
	k.events.emit(Event{Kind: EventRenewFailed, Generation: gen, Hard: true, Err: err})
}

// softFailure records a failure that keeps the current token (Vault
// unreachable or failing) and returns the plan for the retry. The first
// failure to reach Vault is one EventUnreachable; further ones are only
// logged until Vault answers again. answered is the state when Vault did
// answer.
func (k *keeper) softFailure(f failure, err error, kind EventKind, answered State) Plan {
	now := k.clock.Now()
	k.mu.Lock()
	k.st.Failures++
	k.st.Hard = false
	k.lastErr = err.Error()
	k.rnd = k.rand()
	plan := k.sched.Next(k.st, now, k.rnd)
	k.next = plan
	wasUnreachable := k.unreachable
	k.unreachable = f == failUnreachable
	switch {
	case f == failUnreachable:
		k.state = StateUnreachable
	case k.st.Dead && answered != StateStarting:
		k.state = StateRederiving
	default:
		k.state = answered
	}
	gen := k.tok.Generation
	k.mu.Unlock()

	ev := Event{Kind: kind, Generation: gen, Retry: plan.At.Sub(now), Err: err}
	switch {
	case f == failUnreachable && wasUnreachable:
		k.events.debug(ev)
	case f == failUnreachable:
		ev.Kind = EventUnreachable
		k.events.emit(ev)
	default:
		if wasUnreachable {
			k.events.emit(Event{Kind: EventReachable})
		}
		k.events.emit(ev)
	}
	return plan
}
