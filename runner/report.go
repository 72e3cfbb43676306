package runner

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// reportedState is what the loop last reported about the task's health,
// so that each change is reported once.
type reportedState struct {
	depErrs map[string]string
	vault   vaultState
}

// reportMissing sends a missing-dependency event when the set of missing
// dependencies changed, at most once per missingInterval.
func (r *Runner) reportMissing(now time.Time) {
	var all []string
	for _, t := range r.tmpls {
		all = append(all, t.missingNames...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	report, recheck, next := r.missing.observe(all, now)
	r.missing, r.recheck = next, recheck
	if report {
		r.emit(Event{Kind: KindMissing, Missing: all, Message: missingMessage(all)})
	}
}

// reportHealth reports dependency failures and recoveries, and Vault
// becoming unreachable or reachable again.
func (r *Runner) reportHealth() {
	fails := r.dependencyFailures()
	rd := r.redactor()
	if r.reported.depErrs == nil {
		r.reported.depErrs = map[string]string{}
	}
	keys := make([]string, 0, len(fails))
	for k := range fails {
		if _, ok := r.deps[k]; ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var failing []DependencyError
	var evs []Event
	for _, k := range keys {
		msg := rd.redact(fails[k])
		failing = append(failing, DependencyError{Dependency: k, Error: msg})
		if r.reported.depErrs[k] == msg {
			continue
		}
		r.reported.depErrs[k] = msg
		evs = append(evs, Event{Kind: KindDependencyError, Dependency: k,
			Message: fmt.Sprintf("%s: %s — retrying", k, msg)})
	}
	for k := range r.reported.depErrs {
		if _, ok := fails[k]; !ok || !slices.Contains(keys, k) {
			delete(r.reported.depErrs, k)
			evs = append(evs, Event{Kind: KindDependencyRecovered, Dependency: k, Message: k + " fetched again"})
		}
	}
	r.mu.Lock()
	r.status.Failing = failing
	r.mu.Unlock()
	for _, e := range evs { // after the status, so that it agrees with them
		r.emit(e)
	}

	if r.vobs == nil {
		return
	}
	state, _, lastErr := r.vobs.snapshot()
	if state == r.reported.vault {
		return
	}
	prev := r.reported.vault
	r.reported.vault = state
	switch {
	case state == vaultUnreachable:
		r.emit(Event{Kind: KindVaultUnreachable,
			Message: "vault unreachable: " + rd.redact(lastErr) + " — keeping the last rendered files, retrying"})
	case state == vaultReachable && prev == vaultUnreachable:
		r.emit(Event{Kind: KindVaultReachable, Message: "vault reachable again"})
	}
}

// forgetFailure drops a failure of a dependency no longer needed, without
// an event.
func (r *Runner) forgetFailure(name string) {
	r.depMu.Lock()
	delete(r.depFail, name)
	r.depMu.Unlock()
	delete(r.reported.depErrs, name)
}

// dependencyError summarises a fetch error: Vault's status and messages,
// or the network error, without the dependency's name repeated.
func dependencyError(name string, err error) string {
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		msg := strings.Join(re.Errors, "; ")
		if re.RawError || msg == "" {
			msg = "unexpected response"
		}
		return fmt.Sprintf("%d %s", re.StatusCode, msg)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	msg := err.Error()
	for strings.HasPrefix(msg, name+": ") {
		msg = msg[len(name)+2:]
	}
	return msg
}
