package runner

import (
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"
)

// depObserver hears about dependency fetches from the fetch goroutines.
type depObserver interface {
	failed(name string, err error)
	recovered(name string)
}

// trackedDep wraps a consul-template dependency (vault.read, vault.list,
// vault.write, vault.pki). It retries a failed fetch itself, with
// vault_retry's capped, jittered backoff, and reports each failure and the
// recovery to the runner. The watcher therefore only ever sees success, a
// stop, or — retries exhausted — a final error, which stops the runner.
type trackedDep struct {
	dep.Dependency
	retry retryPolicy
	obs   depObserver

	stop     chan struct{}
	stopOnce sync.Once
}

func (r *Runner) track(d dep.Dependency) *trackedDep {
	return &trackedDep{Dependency: d, retry: r.retry, obs: r, stop: make(chan struct{})}
}

// Fetch implements dep.Dependency.
func (d *trackedDep) Fetch(c *dep.ClientSet, o *dep.QueryOptions) (any, *dep.ResponseMetadata, error) {
	for failures := 0; ; {
		data, rm, err := d.Dependency.Fetch(c, o)
		if err == nil {
			if failures > 0 {
				d.obs.recovered(d.String())
			}
			return snapshot(data), rm, nil
		}
		if errors.Is(err, dep.ErrStopped) || d.stopped() {
			return nil, nil, dep.ErrStopped
		}
		failures++
		d.obs.failed(d.String(), err)
		retry, wait := d.retry.next(failures, rand.Float64())
		if !retry {
			return nil, nil, &exhaustedError{dep: d.String(), err: err}
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-d.stop:
			t.Stop()
			return nil, nil, dep.ErrStopped
		}
	}
}

// Stop implements dep.Dependency; it may be called more than once.
func (d *trackedDep) Stop() {
	d.stopOnce.Do(func() {
		close(d.stop)
		d.Dependency.Stop()
	})
}

func (d *trackedDep) stopped() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

// exhaustedError is a dependency whose retries ran out (vault_retry
// attempts > 0).
type exhaustedError struct {
	dep string
	err error
}

func (e *exhaustedError) Error() string {
	return e.dep + ": retries exhausted: " + e.err.Error()
}

func (e *exhaustedError) Unwrap() error { return e.err }

// snapshot copies a Vault secret before anyone else sees it.
// consul-template's next Fetch of the same dependency renews the lease and
// updates its secret in place, from another goroutine, while the runner
// may be reading it: the copy — made before that next Fetch can start —
// is never written to. (Renewals replace the secret's fields; they never
// modify its data map.)
func snapshot(data any) any {
	if s, ok := data.(*dep.Secret); ok && s != nil {
		cp := *s
		return &cp
	}
	return data
}
