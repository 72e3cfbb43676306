package vaultauth

import "time"

// Schedule is the timing policy of a token's life: when to renew it, when
// to replace it, and how long to wait after a failure. It is pure: Next
// takes the token's state, the time and a random number and returns a
// Plan, so every rule is a table test.
//
// The rules, in order:
//
//  1. A dead token (none yet, or Vault said no to it: revoked, expired,
//     permission denied) is replaced — at once the first time, then after
//     Reauth (hard failures) or Retry (Vault unreachable) backoff.
//  2. A token with no TTL never expires: nothing to do.
//  3. With allow_token_expiration the token is never renewed or replaced;
//     the plan is to note its expiry when it comes.
//  4. A renewable token is renewed at a random point in RenewWindow of its
//     TTL, counted from when Vault granted that TTL. A token that is not
//     renewable, or whose last renewal granted less than Exhausted × its
//     full TTL (a max TTL caps it: its expiry cannot move any more), is
//     replaced at a random point in ReplaceWindow of what it has left, and
//     at least Slack before it expires.
//  5. After a failed renewal or replacement the old token still works
//     until it expires, so the same step is retried after a backoff
//     (Retry when Vault was unreachable or failed, Reauth when it said no)
//     — but never later than half the time left, and never sooner than
//     Retry.Min. Once the token has expired the step becomes a replacement.
type Schedule struct {
	// RenewWindow is the fraction of the TTL, [lo, hi), at which a
	// renewable token is renewed.
	RenewWindow [2]float64
	// ReplaceWindow is the same for a token that must be replaced.
	ReplaceWindow [2]float64
	// Exhausted: a renewal granting less than this fraction of the
	// token's full TTL (Lease.Base) means a max TTL caps it.
	Exhausted float64
	// Slack: Vault reports TTLs in whole seconds and counts a max TTL
	// from a creation time it keeps in whole seconds, so a token may
	// expire up to a second before its reported TTL runs out. A
	// replacement is planned at least Slack before the reported expiry
	// (but not before half the TTL).
	Slack time.Duration
	// Retry paces retries when Vault is unreachable or fails (soft
	// failures); Reauth paces them when Vault refuses (hard failures).
	Retry, Reauth Backoff
}

// DefaultSchedule renews at 50–70 % of the TTL, stops renewing as soon as
// a renewal is cut short by a max TTL, replaces tokens it cannot renew at
// 80–90 % of their TTL, retries soft failures 1 s → 1 min and hard ones
// 1 s → 5 min (Vault Agent's re-auth bounds).
var DefaultSchedule = Schedule{
	RenewWindow:   [2]float64{0.5, 0.7},
	ReplaceWindow: [2]float64{0.8, 0.9},
	Exhausted:     1,
	Slack:         time.Second,
	Retry:         Backoff{Min: time.Second, Max: time.Minute},
	Reauth:        Backoff{Min: time.Second, Max: 5 * time.Minute},
}

// Backoff is a capped exponential backoff with jitter.
type Backoff struct {
	Min, Max time.Duration
}

// Delay is the wait before retry number attempt (1 for the first retry):
// Min doubled attempt-1 times, capped at Max, then shortened by up to a
// quarter by rnd (in [0, 1)) so that many clients do not retry in step.
func (b Backoff) Delay(attempt int, rnd float64) time.Duration {
	d := b.Min
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	return d - time.Duration(float64(d)/4*clamp01(rnd))
}

// Lease is what Vault said about a token the last time it issued or
// renewed it.
type Lease struct {
	// TTL is the time to live Vault granted; 0 means the token never
	// expires.
	TTL time.Duration
	// Base is the token's full TTL: the largest TTL Vault granted it,
	// at issue or at a renewal.
	Base      time.Duration
	Renewable bool
	// Granted is when Vault granted TTL.
	Granted time.Time
}

// Expiry is when the token expires; the zero time when it never does.
func (l Lease) Expiry() time.Time {
	if l.TTL <= 0 {
		return time.Time{}
	}
	return l.Granted.Add(l.TTL)
}

// TokenState is everything Next needs to know about one token.
type TokenState struct {
	Lease           Lease
	AllowExpiration bool
	// Dead: there is no usable token (none yet, or Vault refused it).
	Dead bool
	// Failures counts consecutive failed attempts at the current step.
	Failures int
	// Hard: the last failure was Vault refusing, not Vault unreachable.
	Hard bool
}

// Step is what to do next with a token.
type Step int

// Steps of a Plan.
const (
	StepNone    Step = iota // nothing until something changes
	StepRenew               // renew the token
	StepReplace             // obtain a new token
	StepExpire              // the token expires now and is let go (allow_token_expiration)
)

func (s Step) String() string {
	switch s {
	case StepRenew:
		return "renew"
	case StepReplace:
		return "replace"
	case StepExpire:
		return "expire"
	}
	return "none"
}

// Plan is the next step and when to take it. At may be in the past: act
// at once.
type Plan struct {
	Step Step
	At   time.Time
}

// Next plans the next step for a token in state t at time now. rnd is a
// random number in [0, 1) used for jitter.
func (s Schedule) Next(t TokenState, now time.Time, rnd float64) Plan {
	backoff := s.Retry
	if t.Hard {
		backoff = s.Reauth
	}
	if t.Dead {
		if t.Failures == 0 {
			return Plan{StepReplace, now}
		}
		return Plan{StepReplace, now.Add(backoff.Delay(t.Failures, rnd))}
	}
	l := t.Lease
	if l.TTL <= 0 {
		return Plan{Step: StepNone}
	}
	exp := l.Expiry()
	if t.AllowExpiration {
		if now.Before(exp) {
			return Plan{StepExpire, exp}
		}
		return Plan{Step: StepNone}
	}
	step, window := StepReplace, s.ReplaceWindow
	if l.Renewable && float64(l.TTL) >= s.Exhausted*float64(l.Base) {
		step, window = StepRenew, s.RenewWindow
	}
	if t.Failures == 0 {
		f := window[0] + (window[1]-window[0])*clamp01(rnd)
		at := l.Granted.Add(time.Duration(f * float64(l.TTL)))
		if step == StepReplace {
			if latest := exp.Add(-s.Slack); at.After(latest) {
				at = latest
				if half := l.Granted.Add(l.TTL / 2); at.Before(half) {
					at = half
				}
			}
		}
		return Plan{step, at}
	}
	if !now.Before(exp) {
		return Plan{StepReplace, now.Add(backoff.Delay(t.Failures, rnd))}
	}
	d := backoff.Delay(t.Failures, rnd)
	if half := exp.Sub(now) / 2; d > half {
		d = max(half, s.Retry.Min)
	}
	return Plan{step, now.Add(d)}
}

func clamp01(f float64) float64 {
	switch {
	case f < 0:
		return 0
	case f >= 1:
		return 0.999999
	}
	return f
}
