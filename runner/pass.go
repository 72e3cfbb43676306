package runner

import (
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"
	cttemplate "github.com/hashicorp/consul-template/template"

	"github.com/tmplrun/tmplrun/sandbox"
)

// pass executes every template that is not done, watches what they use,
// writes what is complete and hands the changes to the dispatcher. A
// template that fails is reported and keeps its file and its
// dependencies; the others go on. In Render mode pass returns done once
// every template is settled, with their errors.
//
// Templates are executed, and their files written, on several cores at
// once (see parallel.go); everything else is done here, in order.
func (r *Runner) pass(fired map[int]bool) (bool, error) {
	now := time.Now()
	wasFirst := r.firstComplete
	r.refreshSecrets()
	needed := make(map[string]dep.Dependency, len(r.deps))
	var run []int
	for i, t := range r.tmpls {
		if t.done {
			continue
		}
		if len(t.missingNames) > 0 && r.fingerprint(t.used) == t.missingFP {
			// Still waiting, and nothing it used or missed has arrived or
			// changed: executing it again would only find the same data
			// missing. (During a first render of many templates, most
			// passes bring data for a few of them only.)
			for _, d := range t.used.List() {
				needed[d.String()] = d
			}
			continue
		}
		run = append(run, i)
	}
	// The brain does not change during a pass: executing every template
	// first, all at once, is what executing them one after the other was.
	outs := r.executeAll(run)
	var writes []pendingWrite
	for _, i := range run {
		t, out, err := r.tmpls[i], outs[i].out, outs[i].err
		for _, d := range t.used.List() {
			k := d.String()
			if _, ok := needed[k]; !ok {
				needed[k] = d
			}
			if !r.watcher.watching(d) {
				r.watcher.add(d)
				t.missing.Add(d)
			}
		}
		t.missingNames = names(t.missing)
		if len(t.missingNames) > 0 {
			// Waiting; an error now is most likely the missing data's.
			t.missingFP = r.fingerprint(t.used)
			continue
		}
		if err != nil {
			r.templateFailed(t, fmt.Errorf("execute: %w", err))
			continue
		}
		fp := r.fingerprint(t.used)
		sum := sha256.Sum256(out)
		var o outcome
		o, t.quiet = decideRender(renderInput{
			first:         !t.rendered || r.once,
			dataChanged:   fp != t.fp,
			outputChanged: sum != t.sum,
			fired:         fired[i],
			wait:          t.wait,
			fp:            fp,
			now:           now,
		}, t.quiet)
		switch o {
		case outcomeWait:
			continue
		case outcomeUnstable:
			r.unstable(t)
			continue
		}
		var env map[string]string
		if t.spec.Env {
			if env, err = parseDotenv(out); err != nil {
				r.templateFailed(t, fmt.Errorf("env template: %w", err))
				continue
			}
		}
		writes = append(writes, pendingWrite{template: i, out: out, env: env, fp: fp, sum: sum})
	}
	r.writeAll(writes)
	var changes []change
	for _, w := range writes {
		t := r.tmpls[w.template]
		if w.err != nil {
			r.templateFailed(t, w.err)
			continue
		}
		t.lastErr = ""
		if w.env != nil {
			t.env = w.env
		}
		t.fp, t.sum, t.lastRender, t.rendered = w.fp, w.sum, now, true
		if t.spec.Once || r.once {
			t.done = true
		}
		if !w.changed {
			continue
		}
		t.lastChange = now
		t.renders++
		r.later(Event{Kind: KindRendered, Template: t.spec.Destination,
			Message: fmt.Sprintf("template %s rendered", t.spec.Destination)})
		c := change{template: w.template}
		if !wasFirst {
			// Before the first render completes nothing has read the
			// files yet: a re-render now is part of the first render.
			r.firstChanges = append(r.firstChanges, c)
		} else {
			changes = append(changes, c)
		}
	}
	for k, d := range r.deps {
		if _, ok := needed[k]; !ok {
			r.watcher.remove(d)
			r.brain.Forget(d)
			delete(r.versions, k)
			r.forgetFailure(k)
		}
	}
	r.deps = needed
	r.updateStatus()
	r.flushEvents() // after the status, so that it agrees with them
	r.reportMissing(now)

	if !r.firstComplete && r.firstRendered() {
		r.firstComplete = true
		r.mu.Lock()
		r.status.FirstRender = now
		tokenEarly := r.tokenEarly
		r.tokenEarly = false
		r.mu.Unlock()
		// A restore: the task already runs over files some of which just
		// changed (new dynamic credentials…), or on a token that was just
		// replaced: tell it (nomad#9491). Asked before WaitFirstRender
		// returns, so that a task started after it is never told.
		if !r.once && r.lc.IsRunning() {
			if len(r.firstChanges) > 0 {
				changes = append(r.firstChanges, changes...)
			}
			if tokenEarly {
				r.disp.enqueue(nil, true)
			}
		}
		r.firstChanges = nil
		r.emit(Event{Kind: KindFirstRender, Message: "all templates rendered"})
		close(r.firstDone)
	}
	if !r.once && len(changes) > 0 {
		r.disp.enqueue(changes, false)
	}
	if r.once && r.settled() {
		return true, r.renderErrors()
	}
	return false, nil
}

// later queues an event of the pass, sent by flushEvents.
func (r *Runner) later(e Event) { r.queued = append(r.queued, e) }

func (r *Runner) flushEvents() {
	for _, e := range r.queued {
		r.emit(e)
	}
	r.queued = r.queued[:0]
}

// execute runs the template against the brain, recording what it uses
// and misses.
func (r *Runner) execute(t *tmplState) ([]byte, error) {
	t.used, t.missing = new(dep.Set), new(dep.Set)
	res, err := t.ct.Execute(&cttemplate.ExecuteInput{Brain: r.brain})
	if err != nil {
		return nil, err
	}
	// Functions the runner does not wrap (none that fetch anything are
	// allowed) report through consul-template's own sets.
	for _, d := range res.Used.List() {
		t.used.Add(d)
	}
	for _, d := range res.Missing.List() {
		t.missing.Add(d)
	}
	return res.Output, nil
}

// write puts a template's output in its file: atomically, through the
// task dir's os.Root, with its perms and owner; identical content is left
// alone (changed false). In dry-run mode the output goes to DryRun.
func (r *Runner) write(t *tmplState, out []byte) (bool, error) {
	if r.cfg.DryRun != nil {
		r.cfg.DryRun(t.spec.Destination, out)
		return true, nil
	}
	opts := []sandbox.Option{sandbox.Perm(t.spec.Perms)}
	uid, gid := -1, -1
	if t.spec.UID != nil {
		uid = *t.spec.UID
	}
	if t.spec.GID != nil {
		gid = *t.spec.GID
	}
	if uid >= 0 || gid >= 0 {
		opts = append(opts, sandbox.Owner(uid, gid))
	}
	return r.dir.WriteFile(t.spec.Destination, out, opts...)
}

// unstable records and reports, once, a template whose output changes
// although its data does not (see decideRender).
func (r *Runner) unstable(t *tmplState) {
	if t.unstable {
		return
	}
	t.unstable = true
	r.later(Event{Kind: KindUnstable, Template: t.spec.Destination,
		Message: fmt.Sprintf("template %s changes on every render although its data did not change (timestamp? random?); it is rewritten, and its change_mode fires, only when its data changes", t.spec.Destination)})
}

// templateFailed records and reports a template's failure, redacted. The
// event is sent when the message changes, not on every attempt.
func (r *Runner) templateFailed(t *tmplState, err error) {
	msg := fmt.Sprintf("template %s: %s", t.spec.Destination, r.redactor().redact(err.Error()))
	t.errors++
	if msg == t.lastErr {
		return
	}
	t.lastErr = msg
	r.later(Event{Kind: KindRenderError, Template: t.spec.Destination, Message: msg})
}

// fingerprint identifies the data a template was rendered from: its
// dependencies and how many times each has changed.
func (r *Runner) fingerprint(used *dep.Set) uint64 {
	keys := make([]string, 0, used.Len())
	for _, d := range used.List() {
		keys = append(keys, d.String())
	}
	slices.Sort(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write(strconv.AppendUint(nil, r.versions[k], 10))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// redactor knows every secret value the task holds now (see
// collectSecrets) and its tokens, current and recent. Any goroutine may
// call it.
func (r *Runner) redactor() redactor {
	r.mu.Lock()
	defer r.mu.Unlock()
	vals := make([]string, 0, len(r.secretVals)+len(r.oldTokens)+1)
	vals = append(vals, r.secretVals...)
	vals = append(vals, r.token)
	vals = append(vals, r.oldTokens...)
	return newRedactor(vals)
}

// refreshSecrets updates the values redactor knows from the brain.
func (r *Runner) refreshSecrets() {
	vals := r.collectSecrets()
	r.mu.Lock()
	r.secretVals = vals
	r.mu.Unlock()
}

// collectSecrets lists the values to redact: the data of the task's Vault
// dependencies, the env templates' values and the task's environment. The
// loop calls it after each pass.
func (r *Runner) collectSecrets() []string {
	var vals []string
	for _, d := range r.deps {
		if v, ok := r.brain.Recall(d); ok {
			vals = secretValues(v, vals)
		}
	}
	for _, t := range r.tmpls {
		for _, v := range t.env {
			vals = append(vals, v)
		}
	}
	for _, v := range r.cfg.Env {
		vals = append(vals, v)
	}
	return vals
}
