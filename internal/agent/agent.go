package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/tmplrun/tmplrun/internal/status"
	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// Options tune an Agent.
type Options struct {
	// Logger receives one line per event.
	Logger *slog.Logger
	// HTTPAddr serves /v1/status and /metrics when not empty.
	HTTPAddr string
	// Version is reported by /v1/status.
	Version string
	// Stdout and Stderr receive the tasks' output (default: tmplrun's).
	Stdout, Stderr io.Writer
	// Environ is tmplrun's own environment, of which tasks get only PATH,
	// HOME, the locale and the like (default os.Environ).
	Environ func() []string
	// Getenv is read for VAULT_ADDR and VAULT_TOKEN by tmplrun's own
	// login (default os.Getenv).
	Getenv func(string) string

	// noTokenFile keeps task tokens out of their files (render).
	noTokenFile bool
}

// Agent runs the tasks of one configuration.
type Agent struct {
	cfg      *template.Config
	opts     Options
	log      *slog.Logger
	clusters *vaultauth.Clusters
	report   *reporter
	metrics  *status.Metrics
	tasks    []*task
}

// New prepares an agent for a valid, canonicalized configuration. Nothing
// starts until Run.
func New(cfg *template.Config, opts Options) (*Agent, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Environ == nil {
		opts.Environ = os.Environ
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	a := &Agent{cfg: cfg, opts: opts, log: opts.Logger}
	a.metrics = status.NewMetrics(a.Snapshot)
	a.report = &reporter{log: a.log, metrics: a.metrics}
	clusters, err := vaultauth.NewClusters(cfg.Vaults, vaultauth.Options{
		Logger: a.log,
		OnEvent: func(e vaultauth.Event) {
			a.report.tokenEvent(e)
			a.tokenPending(e)
		},
		Getenv: opts.Getenv,
	})
	if err != nil {
		return nil, err
	}
	a.clusters = clusters
	environ := opts.Environ()
	for _, t := range cfg.Tasks {
		a.tasks = append(a.tasks, &task{spec: t, env: newTaskEnv(t, environ), state: stateStarting})
	}
	return a, nil
}

// Run runs every task until ctx ends — then it stops every process
// (kill_signal, kill_timeout, SIGKILL), revokes the task tokens and
// returns nil — or until every task has failed for good, when it returns
// their reasons. A task that fails is stopped with its reason logged; the
// others keep running.
func (a *Agent) Run(ctx context.Context) error {
	if a.opts.HTTPAddr != "" {
		srv, err := status.Start(a.opts.HTTPAddr, status.Handler(a.Snapshot, a.metrics), a.log)
		if err != nil {
			return fmt.Errorf("status server: %w", err)
		}
		a.log.Info("status on http://"+srv.Addr().String()+"/v1/status, metrics on /metrics", "event", "http-listening")
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		}()
	}
	defer a.closeClusters()

	errs := make([]error, len(a.tasks))
	var wg sync.WaitGroup
	for i, t := range a.tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.runTask(ctx, t); err != nil {
				errs[i] = fmt.Errorf("task %s: %w", t.spec.Name, err)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return errors.Join(errs...)
}

// closeClusters stops keeping tmplrun's own tokens alive (and revokes
// those tmplrun logged in for).
func (a *Agent) closeClusters() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.clusters.Close(ctx); err != nil {
		a.log.Warn("closing vault clusters: "+err.Error(), "event", "close-failed")
	}
}
