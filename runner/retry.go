package runner

import (
	"time"

	"github.com/tmplrun/tmplrun/template"
)

// retryPolicy is vault_retry: how a failing dependency is retried.
type retryPolicy struct {
	// attempts is how many retries follow the first failure; 0 is forever.
	attempts   int
	backoff    time.Duration
	maxBackoff time.Duration
}

func retryFrom(r *template.Retry) retryPolicy {
	p := retryPolicy{
		attempts:   template.DefaultVaultRetryAttempts,
		backoff:    template.DefaultVaultRetryBackoff,
		maxBackoff: template.DefaultVaultRetryMaxBackoff,
	}
	if r != nil {
		p.attempts = r.Attempts
		if r.Backoff > 0 {
			p.backoff = r.Backoff
		}
		if r.MaxBackoff > 0 {
			p.maxBackoff = r.MaxBackoff
		}
	}
	if p.maxBackoff < p.backoff {
		p.maxBackoff = p.backoff
	}
	return p
}

// next says whether to retry after the failures-th consecutive failure
// (1 for the first) and how long to wait first: backoff doubling from
// p.backoff, capped at p.maxBackoff, scaled into [75%, 100%] by jitter (a
// number in [0, 1)) so that many tasks do not retry in lockstep.
func (p retryPolicy) next(failures int, jitter float64) (bool, time.Duration) {
	if p.attempts > 0 && failures > p.attempts {
		return false, 0
	}
	d := p.backoff
	for i := 1; i < failures && d < p.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.maxBackoff)
	jitter = min(max(jitter, 0), 1)
	return true, d - time.Duration(float64(d)*0.25*(1-jitter))
}
