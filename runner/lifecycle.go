package runner

import (
	"context"

	"github.com/tmplrun/tmplrun/template"
)

// Lifecycle is what the runner needs from whoever runs the task's process:
// the CLI's supervisor implements it, and so does an orchestrator that
// embeds the runner for its own tasks (as Nomad's task runner does for its
// template manager). The runner calls it from its own goroutines, never
// more than one restart at a time; methods should return once the action is
// done (Restart: the new process has started).
type Lifecycle interface {
	// Restart stops the task's process and starts it again; the new
	// process gets Runner.Env's current environment.
	Restart(ctx context.Context, reason string) error
	// Signal sends a signal ("SIGHUP") to the task's process.
	Signal(ctx context.Context, signal string) error
	// Exec runs a change script in the task's directory and environment
	// and returns its exit code. ctx carries the script's timeout. The
	// runner never reports the script's output (it may hold secrets): log
	// it yourself if you must.
	Exec(ctx context.Context, script *template.ChangeScript) (exitCode int, err error)
	// Kill stops the task for good (a change script with fail_on_error
	// failed, or Vault retries ran out).
	Kill(ctx context.Context, reason string) error
	// IsRunning reports whether the task's process is running now.
	IsRunning() bool
}

// EventSink receives the runner's events. The runner serialises its calls
// (never two at once) and waits for each, so Event must not block for long
// and must not call back into the Runner's Stop.
type EventSink interface {
	Event(Event)
}

// EventFunc adapts a function to an EventSink.
type EventFunc func(Event)

// Event calls f(e).
func (f EventFunc) Event(e Event) { f(e) }

// noLifecycle is the lifecycle of a task without a process: nothing runs,
// so there is nothing to restart or signal; scripts are not run.
type noLifecycle struct{}

func (noLifecycle) Restart(context.Context, string) error { return nil }
func (noLifecycle) Signal(context.Context, string) error  { return nil }
func (noLifecycle) Exec(context.Context, *template.ChangeScript) (int, error) {
	return 0, errNoProcess
}
func (noLifecycle) Kill(context.Context, string) error { return nil }
func (noLifecycle) IsRunning() bool                    { return false }
