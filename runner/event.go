package runner

import "time"

// Kind says what an Event reports.
type Kind string

// Event kinds. The CLI prints one line per event and derives its metrics
// from them: renders (KindRendered), render errors (KindRenderError),
// change actions by mode (KindChange), missing dependencies (KindMissing),
// Vault request errors (KindDependencyError, KindVaultUnreachable).
const (
	// KindRendered: a template's file was written with new content.
	KindRendered Kind = "rendered"
	// KindRenderError: a template failed to execute or its file failed to
	// be written. The other templates are unaffected; the message names
	// the reason with secret values redacted.
	KindRenderError Kind = "render-error"
	// KindMissing: the set of dependencies some template still waits for
	// changed (at most one event per 3 s).
	KindMissing Kind = "missing"
	// KindFirstRender: every template has rendered once.
	KindFirstRender Kind = "first-render"
	// KindChange: a change action was taken (Mode restart, signal, script
	// or noop) because templates changed or a new Vault token arrived.
	KindChange Kind = "change"
	// KindChangeSkipped: an action was not needed or not possible, e.g. a
	// signal for a task that is not running.
	KindChangeSkipped Kind = "change-skipped"
	// KindChangeFailed: a restart, signal or script failed (for a
	// script: ExitCode and Duration are set when it ran to an exit).
	KindChangeFailed Kind = "change-failed"
	// KindChangeDone: a change script exited 0; Duration is how long it
	// ran.
	KindChangeDone Kind = "change-done"
	// KindUnstable: a template's output changes although its data did
	// not (timestamp, random values); reported once. Such a change is
	// not written and fires nothing: the template is rewritten, and its
	// change mode fires, only when its own data changes.
	KindUnstable Kind = "unstable-template"
	// KindDependencyError: fetching a dependency failed (it is retried);
	// one event per new error message of a dependency.
	KindDependencyError Kind = "dependency-error"
	// KindDependencyRecovered: a dependency that failed was fetched again.
	KindDependencyRecovered Kind = "dependency-recovered"
	// KindVaultUnreachable and KindVaultReachable: requests to Vault
	// started failing (network error or 5xx) / succeed again.
	KindVaultUnreachable Kind = "vault-unreachable"
	KindVaultReachable   Kind = "vault-reachable"
	// KindFatal: the runner stopped on an error (first_render_timeout,
	// Vault retries exhausted); Runner.Err returns it.
	KindFatal Kind = "fatal"
)

// Event is one thing that happened to a task's templates. Message is a
// human line without the task name ("template secrets/app.env
// re-rendered; restarting (change_mode=restart)"); the other fields carry
// the same facts for machines. No field ever holds a secret value.
type Event struct {
	Time time.Time
	Task string
	Kind Kind
	// Template is the destination of the template the event is about, or
	// the first of Templates.
	Template string
	// Templates lists the destinations whose change led to a KindChange
	// action.
	Templates []string
	// Mode is the change mode acted on (restart, signal, script, noop).
	Mode string
	// Signal is the signal sent or skipped.
	Signal string
	// Dependency names a dependency (vault.read(secret/data/db)).
	Dependency string
	// Missing lists the dependencies still missing (KindMissing).
	Missing []string
	// Token is true when a KindChange was caused by a new Vault token.
	Token bool
	// ExitCode and Duration describe a change script that ran
	// (KindChangeDone, KindChangeFailed).
	ExitCode int
	Duration time.Duration
	Message  string
}
