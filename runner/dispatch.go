package runner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/tmplrun/tmplrun/template"
)

// dispatcher carries out change modes. It takes batches of changes (and
// token switches) from the loop, asks planChanges what to do, and runs each
// plan in a goroutine of its own; while one runs, new batches are planned
// as "kept" and acted on when it ends. All lifecycle calls happen here.
type dispatcher struct {
	r    *Runner
	wake chan struct{}

	mu         sync.Mutex
	queue      []change
	token      bool
	firstStart bool
	firstSeen  bool

	state   planState // run's goroutine only
	actions sync.WaitGroup

	// splay waits d before a plan's actions, false when ctx ends first
	// (tests replace it to act at a moment of their choosing).
	splay func(ctx context.Context, d time.Duration) bool
}

func newDispatcher(r *Runner) *dispatcher {
	return &dispatcher{r: r, wake: make(chan struct{}, 1), splay: sleepCtx}
}

// sleepCtx waits d, or until ctx ends (false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (d *dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// enqueue hands over changed templates and/or a token switch.
func (d *dispatcher) enqueue(cs []change, token bool) {
	d.mu.Lock()
	d.queue = append(d.queue, cs...)
	d.token = d.token || token
	d.mu.Unlock()
	d.poke()
}

// started asks for the run_on_first_render scripts, once: the planner runs
// them as an action of their own, never during another one (a restart).
func (d *dispatcher) started() {
	d.mu.Lock()
	if !d.firstSeen {
		d.firstSeen, d.firstStart = true, true
	}
	d.mu.Unlock()
	d.poke()
}

func (d *dispatcher) run(ctx context.Context) {
	defer d.actions.Wait()
	r := d.r
	specs := r.cfg.Templates
	var actionDone chan struct{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-actionDone:
			actionDone = nil
			d.state = finishAction(d.state)
		}
		d.mu.Lock()
		cs, token, first := d.queue, d.token, d.firstStart
		d.queue, d.token, d.firstStart = nil, false, false
		d.mu.Unlock()
		p, st := planChanges(planInput{
			templates: specs, vault: r.cfg.Vault,
			changes: cs, token: token, firstStart: first,
			running: r.lc.IsRunning(), rand: rand.Float64(),
		}, d.state)
		d.state = st
		for _, n := range p.notes {
			r.emit(Event{Kind: n.kind, Template: n.template, Templates: n.templates, Mode: n.mode,
				Signal: n.signal, Token: n.token, Message: n.message})
		}
		if p.act() {
			done := make(chan struct{})
			actionDone = done
			d.spawn(func() {
				defer close(done)
				d.execute(ctx, p)
			})
		}
	}
}

func (d *dispatcher) spawn(f func()) {
	d.actions.Add(1)
	go func() {
		defer d.actions.Done()
		f()
	}()
}

// execute waits the splay, then restarts, or signals and runs scripts. A
// task that stopped meanwhile is not restarted or signalled: that is an
// event (change-skipped), not a failure (nomad#5459).
func (d *dispatcher) execute(ctx context.Context, p plan) {
	r := d.r
	if p.splay > 0 && !d.splay(ctx, p.splay) {
		return
	}
	if p.restart {
		if !r.lc.IsRunning() {
			r.emit(Event{Kind: KindChangeSkipped, Mode: template.ChangeModeRestart, Templates: p.templates[""],
				Token: p.token, Message: p.restartReason + "; task not running, restart skipped"})
			return
		}
		if err := r.lc.Restart(ctx, p.restartReason); err != nil && ctx.Err() == nil {
			r.emit(Event{Kind: KindChangeFailed, Mode: template.ChangeModeRestart,
				Message: "restart failed: " + r.redactor().redact(err.Error())})
		}
		return
	}
	for _, sig := range p.signals {
		if !r.lc.IsRunning() {
			d.signalSkipped(p, sig)
			continue
		}
		err := r.lc.Signal(ctx, sig)
		switch {
		case err == nil || ctx.Err() != nil:
		case !r.lc.IsRunning():
			// It stopped between the check and the signal.
			d.signalSkipped(p, sig)
		default:
			r.emit(Event{Kind: KindChangeFailed, Mode: template.ChangeModeSignal, Signal: sig,
				Message: fmt.Sprintf("sending %s failed: %s", sig, r.redactor().redact(err.Error()))})
		}
	}
	d.runScripts(ctx, p.scripts)
}

func (d *dispatcher) signalSkipped(p plan, sig string) {
	dests := p.templates[sig]
	byToken := sig == p.tokenSignal
	d.r.emit(Event{Kind: KindChangeSkipped, Mode: template.ChangeModeSignal, Signal: sig, Templates: dests,
		Token: byToken, Message: fmt.Sprintf("%s; task not running, %s not sent", restartMessage(dests, byToken), sig)})
}

// runScripts runs change scripts concurrently and waits for them all.
func (d *dispatcher) runScripts(ctx context.Context, scripts []scriptAction) {
	var wg sync.WaitGroup
	for _, s := range scripts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.runScript(ctx, s)
		}()
	}
	wg.Wait()
}

func (d *dispatcher) runScript(ctx context.Context, s scriptAction) {
	r := d.r
	timeout := s.script.Timeout
	if timeout <= 0 {
		timeout = template.DefaultScriptTimeout
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	began := time.Now()
	code, err := r.lc.Exec(sctx, s.script)
	took := time.Since(began)
	timedOut := errors.Is(sctx.Err(), context.DeadlineExceeded)
	cancel()
	if ctx.Err() != nil {
		return
	}
	var problem string
	switch {
	case timedOut:
		problem = fmt.Sprintf("timed out after %s", timeout)
	case err != nil:
		problem = "failed: " + r.redactor().redact(err.Error())
	case code != 0:
		problem = fmt.Sprintf("exited with code %d", code)
	default:
		r.emit(Event{Kind: KindChangeDone, Mode: template.ChangeModeScript, Templates: s.templates,
			ExitCode: 0, Duration: took,
			Message: fmt.Sprintf("change script %s for %s done (exit 0, %s)", s.script.Command, strings.Join(s.templates, ", "), took.Round(time.Millisecond))})
		return
	}
	failed := Event{Kind: KindChangeFailed, Mode: template.ChangeModeScript, Templates: s.templates,
		ExitCode: code, Duration: took,
		Message: fmt.Sprintf("change script %s for %s %s", s.script.Command, strings.Join(s.templates, ", "), problem)}
	if !s.script.FailOnError {
		r.emit(failed)
		return
	}
	msg := failed.Message
	failed.Message += "; killing the task (fail_on_error)"
	r.emit(failed)
	if err := r.lc.Kill(ctx, msg); err != nil && ctx.Err() == nil {
		r.emit(Event{Kind: KindChangeFailed, Templates: s.templates,
			Message: "killing the task failed: " + r.redactor().redact(err.Error())})
	}
}
