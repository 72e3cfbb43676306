package agent

import (
	"context"
	"fmt"
	"io"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tmplrun/tmplrun/internal/supervisor"
	"github.com/tmplrun/tmplrun/template"
)

// lifecycle is the runner.Lifecycle of a task with a command: it drives
// the task's supervisor, which exists only once the first render is done
// (until then the task is simply not running).
type lifecycle struct {
	dir    string
	env    func() []string // the process environment, current
	output io.Writer       // where scripts write

	mu   sync.Mutex
	proc *supervisor.Process
	kill func(reason string) // stops the task for good
}

func (l *lifecycle) process() *supervisor.Process {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.proc
}

func (l *lifecycle) setProcess(p *supervisor.Process) {
	l.mu.Lock()
	l.proc = p
	l.mu.Unlock()
}

func (l *lifecycle) Restart(ctx context.Context, reason string) error {
	p := l.process()
	if p == nil {
		return nil // not started yet: it will start with the new files
	}
	return p.Restart(ctx, reason)
}

func (l *lifecycle) Signal(_ context.Context, name string) error {
	p := l.process()
	if p == nil {
		return supervisor.ErrNotRunning
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return fmt.Errorf("unknown signal %s", name)
	}
	return p.Signal(sig)
}

func (l *lifecycle) Exec(ctx context.Context, s *template.ChangeScript) (int, error) {
	res := supervisor.RunScript(ctx, supervisor.Script{
		Command: s.Command, Args: s.Args, Dir: l.dir, Env: l.env(),
		Timeout: s.Timeout, Stdout: l.output, Stderr: l.output,
	})
	return res.ExitCode, res.Err
}

func (l *lifecycle) Kill(_ context.Context, reason string) error {
	l.kill(reason)
	return nil
}

func (l *lifecycle) IsRunning() bool {
	p := l.process()
	return p != nil && p.IsRunning()
}

// signalNum converts a canonical signal name ("SIGTERM").
func signalNum(name string) syscall.Signal {
	if s := unix.SignalNum(name); s != 0 {
		return s
	}
	return syscall.SIGTERM
}
