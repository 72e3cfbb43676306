package runner

import (
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
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
//
// Some of consul-template's dependencies sleep in Fetch, until their data
// is due again, with time.Sleep — deaf to Stop: vault.write of a
// non-renewable secret (e.g. auth/token/create) and pkiCert, for up to a
// lease or certificate lifetime. Stopping the runner would wait that long.
// For those, trackedDep sleeps itself, heeding Stop, and fetches with a
// fresh copy of the dependency, whose first Fetch does what the old one
// would have done after its sleep (see pausing.go).
type trackedDep struct {
	// Dependency is the one the template asked for: its name and type.
	// Fetch and Stop go to cur, a fresh copy of it after each pause.
	dep.Dependency
	retry retryPolicy
	obs   depObserver
	pause pauser // nil: its Fetch never sleeps deaf to Stop

	// wait is the pause before the next Fetch (Fetch's goroutine only).
	wait time.Duration

	mu  sync.Mutex
	cur dep.Dependency

	stop     chan struct{}
	stopOnce sync.Once
}

// track wraps d; p is nil unless d's Fetch sleeps deaf to Stop.
func (r *Runner) track(d dep.Dependency, p pauser) *trackedDep {
	return &trackedDep{Dependency: d, cur: d, pause: p, retry: r.retry, obs: r, stop: make(chan struct{})}
}

// Fetch implements dep.Dependency.
func (d *trackedDep) Fetch(c *dep.ClientSet, o *dep.QueryOptions) (any, *dep.ResponseMetadata, error) {
	if d.wait > 0 {
		if !d.sleep(d.wait) {
			return nil, nil, dep.ErrStopped
		}
		d.wait = 0
	}
	for failures := 0; ; {
		data, rm, err := d.current().Fetch(c, o)
		if err == nil {
			if failures > 0 {
				d.obs.recovered(d.String())
			}
			if d.pause != nil {
				if wait, again := d.pause.after(data); again {
					if !d.replace() {
						return nil, nil, dep.ErrStopped
					}
					d.wait = wait
				}
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
		if !d.sleep(wait) {
			return nil, nil, dep.ErrStopped
		}
	}
}

// sleep waits w, or until the dependency is stopped (false).
func (d *trackedDep) sleep(w time.Duration) bool {
	t := time.NewTimer(w)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-d.stop:
		return false
	}
}

func (d *trackedDep) current() dep.Dependency {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur
}

// replace puts a fresh copy of the dependency in place of cur, whose next
// Fetch would sleep deaf to Stop; false once stopped.
func (d *trackedDep) replace() bool {
	fresh, err := d.pause.fresh()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped() {
		return false
	}
	if err != nil {
		// Cannot happen: the same arguments built the first one.
		return true
	}
	d.cur.Stop()
	d.cur = fresh
	return true
}

// Stop implements dep.Dependency; it may be called more than once.
func (d *trackedDep) Stop() {
	d.stopOnce.Do(func() {
		d.mu.Lock()
		close(d.stop)
		cur := d.cur
		d.mu.Unlock()
		cur.Stop()
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
// is never written to. Renewals write into the secret's Auth and WrapInfo
// (their fields, one by one), so those are copied too; they replace the
// data map and the warnings, never modify them.
func snapshot(data any) any {
	s, ok := data.(*dep.Secret)
	if !ok || s == nil {
		return data
	}
	cp := *s
	if s.Auth != nil {
		a := *s.Auth
		a.Policies = slices.Clone(a.Policies)
		a.Metadata = maps.Clone(a.Metadata)
		cp.Auth = &a
	}
	if s.WrapInfo != nil {
		w := *s.WrapInfo
		cp.WrapInfo = &w
	}
	cp.Warnings = slices.Clone(s.Warnings)
	return &cp
}
