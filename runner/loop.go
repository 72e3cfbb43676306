package runner

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"
)

// loop is the runner's one goroutine that owns the templates, the brain
// (consul-template's data store) and the watcher: it receives data,
// re-renders, and hands changes to the dispatcher. It returns nil or
// ctx's error on a normal stop, else the fatal error.
func (r *Runner) loop(ctx context.Context) error {
	defer func() {
		r.stopRequests() // so that fetches blocked in a request return
		r.watcher.stop()
	}()
	start := time.Now()
	r.missing = missingReporter{since: start, every: r.missingEvery}
	var deadline time.Time
	if d := r.tc.FirstRenderTimeout; d > 0 {
		deadline = start.Add(d)
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	if done, err := r.pass(nil); done || err != nil {
		return err
	}
	for {
		if wake := r.nextWake(deadline); wake.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(time.Until(wake))
		}
		var fired map[int]bool
		run := false
		select {
		case <-ctx.Done():
			if r.once {
				return r.incomplete(ctx.Err())
			}
			return ctx.Err()
		case <-r.watcher.ready:
			if err := r.watcher.failure(); err != nil {
				return r.fatal(ctx, err)
			}
			for d, data := range r.watcher.take() {
				run = r.receive(d, data) || run
			}
		case <-r.nudgeCh:
			r.reportHealth()
		case <-timer.C:
			now := time.Now()
			if !deadline.IsZero() && !r.firstRendered() && !now.Before(deadline) {
				return r.fatal(ctx, r.incomplete(fmt.Errorf("%w after %s", ErrFirstRenderTimeout, r.tc.FirstRenderTimeout)))
			}
			fired = r.dueTemplates(now)
			run = len(fired) > 0
			r.reportMissing(now)
		}
		if run {
			if done, err := r.pass(fired); done || err != nil {
				return err
			}
		}
	}
}

// receive stores a dependency's new data in the brain. It reports whether
// the data really changed: a KV v2 re-read returns the same secret under a
// new request ID, which is not worth re-rendering anything.
func (r *Runner) receive(d dep.Dependency, data any) bool {
	k := d.String()
	if _, ok := r.deps[k]; !ok {
		return false // no longer needed
	}
	// data is a snapshot: see trackedDep.
	old, had := r.brain.Recall(d)
	r.brain.Remember(d, data)
	if had && sameData(old, data) {
		return false
	}
	r.versions[k]++
	return true
}

func sameData(a, b any) bool {
	sa, okA := a.(*dep.Secret)
	sb, okB := b.(*dep.Secret)
	if okA && okB && sa != nil && sb != nil {
		ca, cb := *sa, *sb
		ca.RequestID, cb.RequestID = "", ""
		return reflect.DeepEqual(ca, cb)
	}
	return reflect.DeepEqual(a, b)
}

// nextWake is the earliest of: the first-render deadline, a template's
// quiescence, a held-back missing report.
func (r *Runner) nextWake(deadline time.Time) time.Time {
	var wake time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (wake.IsZero() || t.Before(wake)) {
			wake = t
		}
	}
	if !r.firstRendered() {
		earlier(deadline)
	}
	for _, t := range r.tmpls {
		earlier(t.quiet.due)
	}
	earlier(r.recheck)
	return wake
}

// dueTemplates are the templates whose quiescence has passed.
func (r *Runner) dueTemplates(now time.Time) map[int]bool {
	var fired map[int]bool
	for i, t := range r.tmpls {
		if !t.quiet.due.IsZero() && !now.Before(t.quiet.due) {
			if fired == nil {
				fired = map[int]bool{}
			}
			fired[i] = true
			t.quiet.due = time.Time{}
		}
	}
	return fired
}

func (r *Runner) firstRendered() bool {
	for _, t := range r.tmpls {
		if !t.rendered {
			return false
		}
	}
	return true
}

// fatal reports a runner-stopping error and kills the task if it runs
// (as Nomad does when a template fails for good).
func (r *Runner) fatal(ctx context.Context, err error) error {
	msg := r.redactor().redact(err.Error())
	r.emit(Event{Kind: KindFatal, Message: msg})
	if !r.once && r.lc.IsRunning() {
		if kerr := r.lc.Kill(ctx, msg); kerr != nil {
			r.log.Warn("kill after fatal template error failed", "err", r.redactor().redact(kerr.Error()))
		}
	}
	return err
}

// incomplete explains what the templates still wait for, for an error
// that ends the wait (first_render_timeout, a stopped Render).
func (r *Runner) incomplete(err error) error {
	fails := r.dependencyFailures()
	var parts []string
	for _, t := range r.tmpls {
		if t.rendered || t.done {
			continue
		}
		var deps []string
		for _, m := range t.missingNames {
			if e, ok := fails[m]; ok {
				m += " (" + r.redactor().redact(e) + ")"
			}
			deps = append(deps, m)
		}
		switch {
		case len(deps) > 0:
			parts = append(parts, fmt.Sprintf("%s waits for %s", t.spec.Destination, strings.Join(deps, ", ")))
		case t.lastErr != "":
			parts = append(parts, t.lastErr)
		default:
			parts = append(parts, t.spec.Destination+" has not rendered")
		}
	}
	if len(parts) == 0 {
		return err
	}
	return fmt.Errorf("%w: %s", err, strings.Join(parts, "; "))
}

// settled reports, in Render mode, whether every template is done or has
// failed with all its data present (nothing more will come of it).
func (r *Runner) settled() bool {
	for _, t := range r.tmpls {
		if !t.done && (t.lastErr == "" || len(t.missingNames) > 0) {
			return false
		}
	}
	return true
}

// renderErrors are the failures of a settled Render.
func (r *Runner) renderErrors() error {
	var errs []error
	for _, t := range r.tmpls {
		if !t.done {
			errs = append(errs, errors.New(t.lastErr))
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) dependencyFailures() map[string]string {
	r.depMu.Lock()
	defer r.depMu.Unlock()
	out := make(map[string]string, len(r.depFail))
	for k, v := range r.depFail {
		out[k] = v
	}
	return out
}

// names are a dependency set's names, sorted.
func names(s *dep.Set) []string {
	if s.Len() == 0 {
		return nil
	}
	out := make([]string, 0, s.Len())
	for _, d := range s.List() {
		out = append(out, d.String())
	}
	slices.Sort(out)
	return out
}
