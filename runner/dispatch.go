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
}

func newDispatcher(r *Runner) *dispatcher {
	return &dispatcher{r: r, wake: make(chan struct{}, 1)}
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

// started asks for the run_on_first_render scripts, once.
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
	windows := r.windows()
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
		if first {
			d.spawn(func() { d.firstScripts(ctx) })
		}
		p, st := planChanges(planInput{
			templates: specs, windows: windows, vault: r.cfg.Vault,
			changes: cs, token: token,
			running: r.lc.IsRunning(), now: time.Now(), rand: rand.Float64(),
		}, d.state)
		d.state = st
		for _, n := range p.notes {
			if n.kind == KindUnstable {
				r.markUnstable(n.template)
			}
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

// execute waits the splay, then restarts, or signals and runs scripts.
func (d *dispatcher) execute(ctx context.Context, p plan) {
	r := d.r
	if p.splay > 0 {
		t := time.NewTimer(p.splay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	if p.restart {
		if err := r.lc.Restart(ctx, p.restartReason); err != nil && ctx.Err() == nil {
			r.emit(Event{Kind: KindChangeFailed, Mode: template.ChangeModeRestart,
				Message: "restart failed: " + r.redactor().redact(err.Error())})
		}
		return
	}
	for _, sig := range p.signals {
		if err := r.lc.Signal(ctx, sig); err != nil && ctx.Err() == nil {
			r.emit(Event{Kind: KindChangeFailed, Mode: template.ChangeModeSignal, Signal: sig,
				Message: fmt.Sprintf("sending %s failed: %s", sig, r.redactor().redact(err.Error()))})
		}
	}
	d.runScripts(ctx, p.scripts)
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
	code, err := r.lc.Exec(sctx, s.script)
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
		return
	}
	msg := fmt.Sprintf("change script %s for %s %s", s.script.Command, strings.Join(s.templates, ", "), problem)
	if !s.script.FailOnError {
		r.emit(Event{Kind: KindChangeFailed, Mode: template.ChangeModeScript, Templates: s.templates, Message: msg})
		return
	}
	r.emit(Event{Kind: KindChangeFailed, Mode: template.ChangeModeScript, Templates: s.templates,
		Message: msg + "; killing the task (fail_on_error)"})
	if err := r.lc.Kill(ctx, msg); err != nil && ctx.Err() == nil {
		r.emit(Event{Kind: KindChangeFailed, Templates: s.templates,
			Message: "killing the task failed: " + r.redactor().redact(err.Error())})
	}
}

// firstScripts runs the run_on_first_render change scripts.
func (d *dispatcher) firstScripts(ctx context.Context) {
	var scripts []scriptAction
	for _, t := range d.r.cfg.Templates {
		if t.ChangeMode == template.ChangeModeScript && t.ChangeScript != nil && t.ChangeScript.RunOnFirstRender {
			scripts = addScript(scripts, t)
		}
	}
	for _, s := range scripts {
		d.r.emit(Event{Kind: KindChange, Mode: template.ChangeModeScript, Templates: s.templates,
			Message: fmt.Sprintf("task started; running %s for %s (run_on_first_render)", s.script.Command, strings.Join(s.templates, ", "))})
	}
	d.runScripts(ctx, scripts)
}
