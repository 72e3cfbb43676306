package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tmplrun/tmplrun/internal/status"
	"github.com/tmplrun/tmplrun/internal/supervisor"
	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// Task states shown by /v1/status.
const (
	stateStarting = "starting" // deriving its token
	stateWaiting  = "waiting"  // for its first render
	stateRunning  = "running"
	stateRendered = "rendered" // no command: rendering only
	stateFailed   = "failed"
	stateStopped  = "stopped"
)

// task is one task while tmplrun runs it.
type task struct {
	spec *template.Task
	env  *taskEnv

	mu        sync.Mutex
	state     string
	lastError string
	restarts  uint64
	runner    *runner.Runner
	token     *vaultauth.TaskToken
	lc        *lifecycle
}

func (t *task) set(state, lastError string) {
	t.mu.Lock()
	t.state = state
	if lastError != "" {
		t.lastError = lastError
	}
	t.mu.Unlock()
}

// run runs the task until ctx ends (nil) or the task fails for good (the
// reason). Its process is stopped, its runner stopped and its token
// revoked before it returns.
func (a *Agent) runTask(ctx context.Context, t *task) (err error) {
	defer func() {
		if err != nil {
			t.set(stateFailed, err.Error())
			a.log.Error("task stopped for good: "+err.Error(), "task", t.spec.Name, "event", "task-failed")
		} else {
			t.set(stateStopped, "")
		}
	}()
	t.set(stateStarting, "")
	tok, cluster, err := a.taskToken(ctx, t.spec)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	secret := ""
	if tok != nil {
		t.mu.Lock()
		t.token = tok
		t.mu.Unlock()
		defer a.revoke(tok)
		secret = tok.Token().Secret()
	}

	killed := make(chan string, 1)
	var lc runner.Lifecycle
	if t.spec.Command != "" {
		l := &lifecycle{
			dir:    t.spec.Dir,
			env:    func() []string { return t.processEnv() },
			output: a.opts.Stderr,
			kill: func(reason string) {
				select {
				case killed <- reason:
				default:
				}
			},
		}
		t.mu.Lock()
		t.lc = l
		t.mu.Unlock()
		lc = l
	}
	r, err := runner.New(runner.Config{
		Task:           t.spec.Name,
		Dir:            t.spec.Dir,
		Templates:      t.spec.Templates,
		TemplateConfig: a.cfg.TemplateConfig,
		Vault:          t.spec.Vault,
		VaultCluster:   cluster,
		Token:          secret,
		TokenRefused:   t.suspectToken,
		Env:            t.env.forTemplates(),
		Lifecycle:      lc,
		Events:         runner.EventFunc(a.report.runnerEvent),
		Logger:         a.log,
	})
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.runner = r
	t.mu.Unlock()
	if err := r.Start(ctx); err != nil {
		return err
	}
	defer r.Stop()

	if tok := t.token; tok != nil {
		news, cancel := tok.Subscribe(tok.Token().Generation)
		defer cancel()
		go func() {
			for nt := range news {
				r.SetToken(nt.Secret())
			}
		}()
	}

	t.set(stateWaiting, "")
	if _, err := r.WaitFirstRender(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if t.spec.Command == "" {
		t.set(stateRendered, "")
	} else {
		stopProcess := a.startProcess(ctx, t)
		defer stopProcess()
		r.TaskStarted()
		t.set(stateRunning, "")
	}

	select {
	case <-ctx.Done():
		return nil
	case <-r.Done():
		if err := r.Err(); err != nil && !errors.Is(err, runner.ErrStopped) {
			return err
		}
		return nil
	case reason := <-killed:
		return errors.New(reason)
	}
}

// taskToken derives a task's token (nil for a task without a vault
// block) and returns the cluster block the runner reaches Vault with, its
// address resolved.
func (a *Agent) taskToken(ctx context.Context, t *template.Task) (*vaultauth.TaskToken, *template.VaultCluster, error) {
	v := t.Vault
	if v == nil {
		return nil, nil, nil
	}
	c, ok := a.clusters.Get(v.Cluster)
	if !ok {
		return nil, nil, fmt.Errorf("vault cluster %q is not defined", v.Cluster)
	}
	tok, err := c.Task(ctx, a.taskForToken(t))
	if err != nil {
		return nil, nil, err
	}
	block := *a.cfg.Cluster(v.Cluster)
	block.Address = c.Address()
	return tok, &block, nil
}

// taskForToken is the task as vaultauth should see it.
func (a *Agent) taskForToken(t *template.Task) *template.Task {
	if !a.opts.noTokenFile {
		return t
	}
	cp := *t
	v := *t.Vault
	v.DisableFile = true
	cp.Vault = &v
	return &cp
}

// startProcess starts the task's process under a supervisor and returns
// the function that stops it (kill_signal, kill_timeout, SIGKILL).
func (a *Agent) startProcess(ctx context.Context, t *task) func() {
	cmd, args := t.env.command()
	p := supervisor.New(supervisor.Config{
		Name:        t.spec.Name,
		Command:     cmd,
		Args:        args,
		Dir:         t.spec.Dir,
		Env:         t.processEnv,
		KillSignal:  signalNum(t.spec.KillSignal),
		KillTimeout: t.spec.KillTimeout,
		Stdout:      a.opts.Stdout,
		Stderr:      a.opts.Stderr,
		Events: func(e supervisor.Event) {
			if e.Kind == supervisor.Exited || e.Kind == supervisor.Restarting {
				t.mu.Lock()
				t.restarts++
				t.mu.Unlock()
			}
			a.report.processEvent(t.spec.Name, e)
		},
	})
	t.lc.setProcess(p)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go p.Run(runCtx)
	return func() {
		stopCtx, done := context.WithTimeout(context.Background(), t.spec.KillTimeout+10*time.Second)
		defer done()
		_ = p.Stop(stopCtx)
		cancel()
	}
}

// suspectToken hands a 403 the task's templates got to its token keeper.
func (t *task) suspectToken() {
	t.mu.Lock()
	tok := t.token
	t.mu.Unlock()
	if tok != nil {
		tok.Suspect()
	}
}

// processEnv is the task's process environment now.
func (t *task) processEnv() []string {
	t.mu.Lock()
	r, tok := t.runner, t.token
	t.mu.Unlock()
	var fromTemplates, vault map[string]string
	if r != nil {
		fromTemplates = r.Env()
	}
	if tok != nil && t.spec.Vault.EnvEnabled() {
		vault = tok.Env()
	}
	return t.env.forProcess(fromTemplates, vault)
}

// revoke stops keeping a task's token alive and revokes it: the task has
// stopped for good.
func (a *Agent) revoke(tok *vaultauth.TaskToken) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tok.Stop(ctx, true); err != nil {
		a.log.Warn("could not revoke the task's vault token: "+err.Error(), "task", tok.Name(), "event", "token-revoke-failed")
	}
}

// snapshot is the task's entry in /v1/status.
func (t *task) snapshot(now time.Time) status.Task {
	t.mu.Lock()
	st := status.Task{Name: t.spec.Name, State: t.state, Restarts: t.restarts, LastError: t.lastError, Templates: []status.Template{}}
	r, tok, lc := t.runner, t.token, t.lc
	t.mu.Unlock()
	if lc != nil {
		if p := lc.process(); p != nil {
			st.PID = p.PID()
		}
	}
	if tok != nil {
		ts := tok.Status()
		rem := ts.Remaining(now)
		st.Token = &status.Token{
			State: string(ts.State), TTLSeconds: rem.Seconds(), ExpiresAt: status.TimePtr(ts.Expires),
			Renewable: ts.Renewable, LastRenewal: status.TimePtr(ts.LastRenewal),
			Generation: ts.Generation, LastError: ts.LastError,
		}
		if rem < 0 {
			st.Token.TTLSeconds = 0 // never expires
		}
	}
	if r != nil {
		rs := r.Status()
		st.Vault = status.Vault{Reachable: rs.Vault.Reachable, Since: status.TimePtr(rs.Vault.Since),
			LastError: rs.Vault.LastError, Requests: rs.Vault.Requests, Errors: rs.Vault.Errors}
		for _, tm := range rs.Templates {
			missing := tm.Missing
			if missing == nil {
				missing = []string{}
			}
			st.Templates = append(st.Templates, status.Template{
				Destination: tm.Destination, LastRender: status.TimePtr(tm.LastRender),
				LastChange: status.TimePtr(tm.LastChange), Renders: tm.Renders, Errors: tm.Errors,
				Missing: missing, LastError: tm.LastError, Unstable: tm.Unstable,
			})
		}
	} else {
		st.Vault.Reachable = true
	}
	return st
}
