package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotRunning is returned by Signal when the process is not running.
var ErrNotRunning = errors.New("process is not running")

// Config describes one task's process.
type Config struct {
	Name    string
	Command string
	Args    []string
	// Dir is the working directory; a relative Command is resolved in it.
	Dir string
	// Env returns the environment for a start. It is called before every
	// start, so a restart picks up new env-template values.
	Env func() []string

	KillSignal  syscall.Signal
	KillTimeout time.Duration

	// Stdout and Stderr receive the process's output (default: tmplrun's).
	Stdout, Stderr io.Writer

	// Events receives what happens to the process; it is called from the
	// supervising goroutine and must not block.
	Events func(Event)
	Logger *slog.Logger
}

// EventKind names what happened.
type EventKind string

// Process events.
const (
	Started     EventKind = "process_started"
	StartFailed EventKind = "process_start_failed"
	Exited      EventKind = "process_exited" // on its own: it will be started again after Delay
	Restarting  EventKind = "process_restarting"
	Stopped     EventKind = "process_stopped"
)

// Event is one thing that happened to the process.
type Event struct {
	Kind     EventKind
	PID      int
	ExitCode int           // Exited, Stopped: -1 when killed by a signal
	Signal   string        // Exited, Stopped: the signal that ended it, if any
	Ran      time.Duration // Exited: how long it ran
	Delay    time.Duration // Exited, StartFailed: wait before the next start
	Reason   string        // Restarting: why
	Killed   bool          // Stopped: it ignored KillSignal and got SIGKILL
	Err      error         // StartFailed
}

// Process supervises one task's process. Run it with Run; the other
// methods are safe to call from any goroutine.
type Process struct {
	cfg  Config
	reqs chan request

	mu      sync.Mutex
	pid     int
	running bool
	done    chan struct{} // closed when Run returns
	started bool
}

type request struct {
	stop   bool
	reason string
	reply  chan error
}

// New returns a supervisor for cfg; nothing starts until Run.
func New(cfg Config) *Process {
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Env == nil {
		cfg.Env = func() []string { return nil }
	}
	if cfg.Events == nil {
		cfg.Events = func(Event) {}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.KillSignal == 0 {
		cfg.KillSignal = syscall.SIGTERM
	}
	return &Process{cfg: cfg, reqs: make(chan request), done: make(chan struct{})}
}

// exit is what the wait goroutine reports.
type exit struct {
	state *os.ProcessState
	err   error
	ran   time.Duration
}

// Run starts the process and keeps it running until Stop is called or
// ctx ends; either way it stops the process (kill_signal, kill_timeout,
// SIGKILL) before returning.
func (p *Process) Run(ctx context.Context) {
	p.mu.Lock()
	p.started = true
	p.mu.Unlock()
	defer close(p.done)

	var (
		cmd      *exec.Cmd
		exited   chan exit
		backoff  <-chan time.Time
		failures int
	)
	start := func() {
		backoff = nil
		c, ch, err := p.start()
		if err != nil {
			var d time.Duration
			d, failures = restartDelay(failures, 0)
			p.cfg.Events(Event{Kind: StartFailed, Err: err, Delay: d})
			backoff = time.After(d)
			return
		}
		cmd, exited = c, ch
		p.cfg.Events(Event{Kind: Started, PID: c.Process.Pid})
	}
	stop := func() Event {
		if cmd == nil {
			return Event{}
		}
		ev := p.stop(cmd, exited)
		cmd, exited = nil, nil
		return ev
	}

	start()
	for {
		select {
		case <-ctx.Done():
			if ev := stop(); ev.Kind != "" {
				p.cfg.Events(ev)
			}
			return
		case ex := <-exited:
			p.setRunning(0, false)
			var d time.Duration
			d, failures = restartDelay(failures, ex.ran)
			ev := exitEvent(Exited, cmd.Process.Pid, ex.state)
			ev.Ran, ev.Delay = ex.ran, d
			p.cfg.Events(ev)
			cmd, exited = nil, nil
			backoff = time.After(d)
		case <-backoff:
			start()
		case req := <-p.reqs:
			if req.stop {
				if ev := stop(); ev.Kind != "" {
					p.cfg.Events(ev)
				}
				req.reply <- nil
				return
			}
			p.cfg.Events(Event{Kind: Restarting, Reason: req.reason})
			if ev := stop(); ev.Kind != "" {
				p.cfg.Events(ev)
			}
			failures = 0
			start()
			if cmd == nil {
				req.reply <- fmt.Errorf("restart %s: the process did not start again", p.cfg.Name)
			} else {
				req.reply <- nil
			}
		}
	}
}

// start launches the process in its own process group.
func (p *Process) start() (*exec.Cmd, chan exit, error) {
	cmd := exec.Command(p.cfg.Command, p.cfg.Args...)
	cmd.Dir = p.cfg.Dir
	cmd.Env = p.cfg.Env()
	cmd.Stdout, cmd.Stderr = p.cfg.Stdout, p.cfg.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	began := time.Now()
	p.setRunning(cmd.Process.Pid, true)
	ch := make(chan exit, 1)
	go func() {
		err := cmd.Wait()
		ch <- exit{state: cmd.ProcessState, err: err, ran: time.Since(began)}
	}()
	return cmd, ch, nil
}

// stop sends KillSignal to the process group, waits up to KillTimeout,
// then sends SIGKILL, and waits for the process to be gone.
func (p *Process) stop(cmd *exec.Cmd, exited chan exit) Event {
	pid := cmd.Process.Pid
	_ = syscall.Kill(-pid, p.cfg.KillSignal)
	timer := time.NewTimer(p.cfg.KillTimeout)
	defer timer.Stop()
	killed := false
	var ex exit
	select {
	case ex = <-exited:
	case <-timer.C:
		killed = true
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		ex = <-exited
	}
	p.setRunning(0, false)
	ev := exitEvent(Stopped, pid, ex.state)
	ev.Killed = killed
	return ev
}

func exitEvent(kind EventKind, pid int, st *os.ProcessState) Event {
	ev := Event{Kind: kind, PID: pid, ExitCode: -1}
	if st == nil {
		return ev
	}
	ev.ExitCode = st.ExitCode()
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		ev.Signal = signalName(ws.Signal())
	}
	return ev
}

// signalName names sig as users write it (SIGTERM), not as strsignal
// describes it ("terminated").
func signalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return fmt.Sprintf("signal %d", int(sig))
}

func (p *Process) setRunning(pid int, running bool) {
	p.mu.Lock()
	p.pid, p.running = pid, running
	p.mu.Unlock()
}

// IsRunning reports whether the process is running now.
func (p *Process) IsRunning() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

// PID is the running process's id, or 0.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// Signal delivers sig to the process (not its group: a change signal is
// for the service, whose children it manages itself). It returns
// ErrNotRunning when there is no process.
func (p *Process) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	pid, running := p.pid, p.running
	p.mu.Unlock()
	if !running {
		return ErrNotRunning
	}
	if err := syscall.Kill(pid, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return ErrNotRunning
		}
		return err
	}
	return nil
}

// Restart stops the process (kill_signal, kill_timeout, SIGKILL) and
// starts it again with a fresh environment. A process waiting out a
// restart backoff starts at once. It returns when the new process has
// started, or ctx ends.
func (p *Process) Restart(ctx context.Context, reason string) error {
	return p.ask(ctx, request{reason: reason})
}

// Stop stops the process for good; Run returns. It is a no-op when Run
// was never called or has returned.
func (p *Process) Stop(ctx context.Context) error {
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if !started {
		return nil
	}
	if err := p.ask(ctx, request{stop: true}); err != nil && !errors.Is(err, errDone) {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errDone = errors.New("supervisor has stopped")

func (p *Process) ask(ctx context.Context, req request) error {
	req.reply = make(chan error, 1)
	select {
	case p.reqs <- req:
	case <-p.done:
		return errDone
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when Run has returned.
func (p *Process) Done() <-chan struct{} { return p.done }
