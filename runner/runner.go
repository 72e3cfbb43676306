package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"
	cttemplate "github.com/hashicorp/consul-template/template"

	"github.com/tmplrun/tmplrun/template"
)

// Errors callers may branch on.
var (
	// ErrFirstRenderTimeout: first_render_timeout passed before every
	// template rendered; the error names what they wait for.
	ErrFirstRenderTimeout = errors.New("first render timed out")
	// ErrStopped: the runner was stopped.
	ErrStopped = errors.New("runner stopped")

	errNoProcess = errors.New("the task has no process")
)

// Runner renders one task's templates, keeps them current and acts on
// their changes. Build it with New, then Start it; all methods are safe
// for concurrent use.
type Runner struct {
	cfg   Config
	tc    *template.TemplateConfig
	log   *slog.Logger
	lc    Lifecycle
	dir   *taskDir
	retry retryPolicy
	once  bool // Render: every template once, then stop

	// filePoll is the file dependency's polling interval and missingEvery
	// the least time between missing events (tests shorten them).
	filePoll     time.Duration
	missingEvery time.Duration

	clients *dep.ClientSet
	vobs    *vaultObserver
	// requests is done when the runner stops: every Vault request in
	// flight is cancelled (stopRequests).
	requests     context.Context
	stopRequests context.CancelFunc

	// Owned by the loop goroutine.
	tmpls    []*tmplState
	brain    *cttemplate.Brain
	watcher  *watcher
	deps     map[string]dep.Dependency
	versions map[string]uint64
	missing  missingReporter
	recheck  time.Time
	reported reportedState
	queued   []Event
	// firstComplete: every template has rendered once (firstDone closed).
	firstComplete bool
	// firstChanges are the files the first render changed, over all its
	// passes: a restore tells the running task about them (see pass).
	firstChanges []change

	nudgeCh chan struct{}
	disp    *dispatcher

	// depMu guards depFail: failures reported by fetch goroutines.
	depMu   sync.Mutex
	depFail map[string]string

	emitMu sync.Mutex

	mu         sync.Mutex
	token      string
	oldTokens  []string
	secretVals []string
	// tokenEarly: SetToken switched the token before the first render
	// completed (see pass).
	tokenEarly bool
	env        map[string]string
	status     Status
	started    bool
	stopped    bool
	firstDone  chan struct{}
	cancel     context.CancelFunc
	done       chan struct{}
	err        error
}

// New builds a runner for one task. It checks the configuration, fills
// what is unset with the template package's defaults (on copies: cfg is
// not modified), creates the task dir and reads the templates' sources,
// but makes no request: Start does.
func New(cfg Config) (*Runner, error) { return newRunner(cfg, false) }

func newRunner(cfg Config, once bool) (*Runner, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("runner %s: %w", cfg.Task, err)
	}
	cfg = cfg.canonical()
	r := &Runner{
		cfg:       cfg,
		tc:        cfg.TemplateConfig,
		lc:        cfg.Lifecycle,
		once:      once,
		filePoll:  defaultFilePoll,
		token:     cfg.Token,
		firstDone: make(chan struct{}),
		done:      make(chan struct{}),
		nudgeCh:   make(chan struct{}, 1),
		depFail:   map[string]string{},
		deps:      map[string]dep.Dependency{},
		versions:  map[string]uint64{},
		brain:     cttemplate.NewBrain(),
	}
	if r.lc == nil {
		r.lc = noLifecycle{}
	}
	r.requests, r.stopRequests = context.WithCancel(context.Background())
	base := cfg.Logger
	if base == nil {
		base = slog.Default()
	}
	r.log = base.With("task", cfg.Task)
	setProcessGlobals(r.tc.VaultDefaultLeaseDuration, base)
	r.retry = retryFrom(r.tc.VaultRetry)

	dir, err := openDir(cfg)
	if err != nil {
		return nil, fmt.Errorf("runner %s: %w", cfg.Task, err)
	}
	r.dir = dir
	if cfg.DryRun == nil {
		r.removeStaleTemps()
	}
	if cfg.VaultCluster != nil {
		ns := cfg.VaultCluster.Namespace
		if cfg.Vault != nil && cfg.Vault.Namespace != "" {
			ns = cfg.Vault.Namespace
		}
		r.vobs = newVaultObserver(time.Now, r.nudge)
		r.vobs.refused = cfg.TokenRefused
		r.clients, err = newClientSet(cfg.VaultCluster, ns, cfg.Token, r.vobs, r.requests)
		if err != nil {
			r.stopRequests()
			dir.Close()
			return nil, fmt.Errorf("runner %s: %w", cfg.Task, err)
		}
	} else {
		r.clients = dep.NewClientSet()
	}
	if err := r.buildTemplates(); err != nil {
		r.stopRequests()
		dir.Close()
		return nil, fmt.Errorf("runner %s: %w", cfg.Task, err)
	}
	r.status = Status{Task: cfg.Task, Templates: make([]TemplateStatus, len(r.tmpls))}
	for i, t := range r.tmpls {
		r.status.Templates[i] = TemplateStatus{Destination: t.spec.Destination}
	}
	r.disp = newDispatcher(r)
	return r, nil
}

// Start starts rendering and watching. It returns at once; cancelling ctx
// stops the runner as Stop does. A runner starts once.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("runner already started")
	}
	if r.stopped {
		return ErrStopped
	}
	r.started = true
	ctx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	r.watcher = newWatcher(r.clients)
	dispDone := make(chan struct{})
	go func() {
		defer close(dispDone)
		r.disp.run(ctx)
	}()
	go func() {
		err := r.loop(ctx)
		r.mu.Lock()
		if err != nil && (r.once || !errors.Is(err, context.Canceled)) && r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
		cancel() // the dispatcher too
		<-dispDone
		r.dir.Close()
		close(r.done)
	}()
	return nil
}

// Stop stops the runner and waits until every goroutine it started has
// returned (an action in progress sees its context cancelled). The
// rendered files stay. Stop may be called more than once.
func (r *Runner) Stop() {
	r.mu.Lock()
	if !r.started {
		if !r.stopped {
			r.stopped = true
			r.stopRequests()
			r.dir.Close()
			close(r.done)
		}
		r.mu.Unlock()
		return
	}
	r.stopped = true
	cancel := r.cancel
	r.mu.Unlock()
	cancel()
	<-r.done
}

// Done is closed once the runner has stopped: Stop, its context, or a
// fatal error (see Err).
func (r *Runner) Done() <-chan struct{} { return r.done }

// Err returns the error the runner stopped on (nil on a normal stop or
// while running): ErrFirstRenderTimeout, Vault retries exhausted, an env
// template that does not parse at first render, or — for Render — the
// templates that failed.
func (r *Runner) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// WaitFirstRender blocks until every template has rendered once and
// returns the environment the env templates (env = true) define, to be
// laid over the task's own env. It returns early with the runner's error
// if it stops, or ctx's.
func (r *Runner) WaitFirstRender(ctx context.Context) (map[string]string, error) {
	select {
	case <-r.firstDone:
		return r.Env(), nil
	case <-r.done:
		select {
		case <-r.firstDone:
			return r.Env(), nil
		default:
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		return nil, ErrStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Env returns the current environment defined by the env templates (a
// copy). Env templates reach the process only when it (re)starts, as in
// Nomad: the supervisor calls Env on each start.
func (r *Runner) Env() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.env)
}

// SetToken switches the task's templates to a new Vault token in place:
// the Vault client's token changes, nothing is re-fetched (KV data and
// dynamic credentials stay as they are; leases keep being renewed), and
// the vault block's change_mode (noop, signal, restart) is applied through
// the lifecycle — coalesced with any template restart in flight. Before
// the first render has completed, the token is switched and the change is
// held: when the first render completes, it is applied only if the task
// is running then (a restore: its process runs on the old token); a task
// started after the first render starts with the new token and is never
// told. Setting the current token again does nothing.
func (r *Runner) SetToken(token string) {
	r.mu.Lock()
	if token == r.token {
		r.mu.Unlock()
		return
	}
	r.oldTokens = append(r.oldTokens, r.token)
	if len(r.oldTokens) > 4 {
		r.oldTokens = r.oldTokens[len(r.oldTokens)-4:]
	}
	r.token = token
	// Decided under mu, which the first render's completion also takes:
	// a token is either held for it or enqueued, never neither.
	rendered := !r.status.FirstRender.IsZero()
	if !rendered {
		r.tokenEarly = true
	}
	r.mu.Unlock()
	if r.cfg.VaultCluster != nil {
		r.clients.Vault().SetToken(token)
	}
	if rendered {
		r.disp.enqueue(nil, true)
	}
}

// TaskStarted tells the runner that the task's process has started for the
// first time (after WaitFirstRender): it runs the change scripts marked
// run_on_first_render, once.
func (r *Runner) TaskStarted() { r.disp.started() }

// nudge pokes the loop to look at dependency and Vault health.
func (r *Runner) nudge() {
	select {
	case r.nudgeCh <- struct{}{}:
	default:
	}
}

// failed and recovered implement depObserver, from fetch goroutines.
func (r *Runner) failed(name string, err error) {
	msg := dependencyError(name, err)
	r.depMu.Lock()
	changed := r.depFail[name] != msg
	r.depFail[name] = msg
	r.depMu.Unlock()
	if changed {
		r.nudge()
	}
}

func (r *Runner) recovered(name string) {
	r.depMu.Lock()
	_, had := r.depFail[name]
	delete(r.depFail, name)
	r.depMu.Unlock()
	if had {
		r.nudge()
	}
}

// emit sends an event to the sink and the log, one at a time.
func (r *Runner) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Task = r.cfg.Task
	if e.Template == "" && len(e.Templates) > 0 {
		e.Template = e.Templates[0]
	}
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	level := slog.LevelInfo
	switch e.Kind {
	case KindRenderError, KindChangeFailed, KindDependencyError, KindVaultUnreachable, KindUnstable:
		level = slog.LevelWarn
	case KindFatal:
		level = slog.LevelError
	}
	r.log.Log(context.Background(), level, e.Message, logAttrs(e)...)
	if r.cfg.Events != nil {
		r.cfg.Events.Event(e)
	}
}

// logAttrs are the fields of e's log line beside its message: the event
// kind and whichever of template, mode, signal, token and a script's exit
// code and duration it has.
func logAttrs(e Event) []any {
	attrs := []any{"event", string(e.Kind)}
	if e.Template != "" {
		attrs = append(attrs, "template", e.Template)
	}
	if e.Mode != "" {
		attrs = append(attrs, "mode", e.Mode)
	}
	if e.Signal != "" {
		attrs = append(attrs, "signal", e.Signal)
	}
	if e.Token {
		attrs = append(attrs, "token", true)
	}
	if e.Duration > 0 {
		attrs = append(attrs, "exit_code", e.ExitCode, "duration", e.Duration)
	}
	return attrs
}
