package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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
	pending   string // while starting: why its first token has not come yet
	restarts  uint64
	runner    *runner.Runner
	token     *vaultauth.TaskToken
	lc        *lifecycle
}

// set moves the task to state, with lastError when not empty. Leaving
// stateStarting drops the reason it was waiting for its token: a task
// that failed shows why it failed, not why it was waiting.
func (t *task) set(state, lastError string) {
	t.mu.Lock()
	t.state = state
	if lastError != "" {
		t.lastError = lastError
	}
	if state != stateStarting {
		t.pending = ""
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
	t.mu.Lock()
	t.pending = ""
	t.token = tok
	t.mu.Unlock()
	secret := ""
	var news <-chan vaultauth.Token
	unsubscribe := func() {}
	if tok != nil {
		defer a.revoke(tok)
		var first vaultauth.Token
		first, news, unsubscribe = follow(tok)
		defer unsubscribe()
		secret = first.Secret()
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

	defer unsubscribe() // before the runner stops (cancel is idempotent)
	if news != nil {
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
