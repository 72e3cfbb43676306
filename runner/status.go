package runner

import (
	"maps"
	"slices"
	"time"
)

// Status is a snapshot of a runner, for a status page or metrics. It holds
// no secret values.
type Status struct {
	Task string
	// FirstRender is when every template had rendered once (zero before).
	FirstRender time.Time
	Vault       VaultStatus
	Templates   []TemplateStatus
	// Failing lists the dependencies whose last fetch failed; they are
	// being retried.
	Failing []DependencyError
}

// VaultStatus is what the runner saw of Vault.
type VaultStatus struct {
	// Reachable is false after a request failed on the network or with a
	// 5xx, until one succeeds. It is true before the first request.
	Reachable bool
	// Since is when Reachable last changed (zero: never).
	Since time.Time
	// LastError is the last network or 5xx error.
	LastError string
	// Requests and Errors count HTTP requests to Vault and those that
	// failed (network error or status ≥ 400).
	Requests, Errors uint64
}

// TemplateStatus is one template's state.
type TemplateStatus struct {
	Destination string
	// LastRender is when the template last rendered completely (its file
	// written, or found identical).
	LastRender time.Time
	// LastChange is when its file content last changed.
	LastChange time.Time
	// Renders counts content changes; Errors counts failed renders.
	Renders, Errors uint64
	// Missing lists the dependencies it waits for.
	Missing []string
	// LastError is the current error, "" once it renders again.
	LastError string
	// Unstable is true once its output was seen changing without new
	// data; such output is not written and fires nothing (only a change
	// of its data does).
	Unstable bool
}

// DependencyError is a dependency whose fetch fails.
type DependencyError struct {
	Dependency string
	Error      string
}

// Status returns a snapshot of the runner.
func (r *Runner) Status() Status {
	r.mu.Lock()
	s := r.status
	s.Templates = slices.Clone(s.Templates)
	for i := range s.Templates {
		s.Templates[i].Missing = slices.Clone(s.Templates[i].Missing)
	}
	s.Failing = slices.Clone(s.Failing)
	r.mu.Unlock()
	s.Vault.Reachable = true
	if r.vobs != nil {
		state, since, lastErr := r.vobs.snapshot()
		s.Vault.Reachable = state != vaultUnreachable
		s.Vault.Since, s.Vault.LastError = since, lastErr
		s.Vault.Requests, s.Vault.Errors = r.vobs.requests.Load(), r.vobs.errors.Load()
	}
	return s
}

// updateStatus copies the loop's view of the templates into the status
// and recomputes the env templates' environment.
func (r *Runner) updateStatus() {
	env := map[string]string{}
	for _, t := range r.tmpls {
		maps.Copy(env, t.env)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, t := range r.tmpls {
		ts := &r.status.Templates[i]
		ts.LastRender, ts.LastChange = t.lastRender, t.lastChange
		ts.Renders, ts.Errors = t.renders, t.errors
		ts.Missing, ts.LastError = t.missingNames, t.lastErr
		ts.Unstable = t.unstable
	}
	r.env = env
}
