package agent

import (
	"time"

	"github.com/tmplrun/tmplrun/internal/status"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// Snapshot is the /v1/status answer now.
func (a *Agent) Snapshot() status.Snapshot {
	now := time.Now()
	s := status.Snapshot{
		Version:  a.opts.Version,
		Time:     now.UTC(),
		Clusters: []status.Token{},
		Tasks:    make([]status.Task, 0, len(a.tasks)),
	}
	for _, cs := range a.clusters.Status() {
		s.Clusters = append(s.Clusters, *tokenStatus(cs, now))
	}
	for _, t := range a.tasks {
		s.Tasks = append(s.Tasks, t.snapshot(now))
	}
	return s
}

// tokenStatus is a token holder's entry in /v1/status — tmplrun's own
// token on a cluster (with its Cluster named) or a task's. Never the
// token, nor its accessor.
func tokenStatus(ts vaultauth.Status, now time.Time) *status.Token {
	st := &status.Token{
		State:       string(ts.State),
		Policies:    ts.Policies,
		Renewable:   ts.Renewable,
		Obtained:    status.TimePtr(ts.Obtained),
		LastRenewal: status.TimePtr(ts.LastRenewal),
		Renewals:    ts.Renewals,
		Generation:  ts.Generation,
		Failures:    ts.Failures,
		LastError:   ts.LastError,
	}
	if ts.Task == "" {
		st.Cluster = ts.Cluster
	}
	if st.Policies == nil {
		st.Policies = []string{}
	}
	switch rem := ts.Remaining(now); {
	case rem < 0:
		st.NeverExpires = true
	default:
		st.TTLSeconds = rem.Seconds()
		st.ExpiresAt = status.TimePtr(ts.Expires)
	}
	if ts.Next.Step != vaultauth.StepNone {
		st.Next = ts.Next.Step.String()
		st.NextAt = status.TimePtr(ts.Next.At)
	}
	return st
}

// snapshot is the task's entry in /v1/status.
func (t *task) snapshot(now time.Time) status.Task {
	t.mu.Lock()
	st := status.Task{Name: t.spec.Name, State: t.state, Restarts: t.restarts, LastError: t.lastError, Templates: []status.Template{}}
	if t.pending != "" {
		st.LastError = t.pending
	}
	r, tok, lc := t.runner, t.token, t.lc
	t.mu.Unlock()
	if lc != nil {
		if p := lc.process(); p != nil {
			st.PID = p.PID()
		}
	}
	if tok != nil {
		st.Token = tokenStatus(tok.Status(), now)
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
