package runner

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// missingInterval is the least time between two missing-dependency events.
const missingInterval = 3 * time.Second

// missingShown is how many dependency names a missing event spells out.
const missingShown = 3

// missingReporter decides when the set of missing dependencies is worth an
// event: only when it changed since the last report, at most once per
// missingInterval, and never for an empty set. Start it with since = the
// runner's start, so that dependencies that arrive within the first
// interval (the usual case) are never reported.
type missingReporter struct {
	reported []string
	since    time.Time
	// every is the interval; 0 means missingInterval.
	every time.Duration
}

// observe looks at the current (sorted) set. It returns whether to report
// it now and, when a change is held back by the interval, when to look
// again (zero otherwise).
func (m missingReporter) observe(current []string, now time.Time) (report bool, recheck time.Time, next missingReporter) {
	if len(current) == 0 {
		m.reported = nil
		return false, time.Time{}, m
	}
	if slices.Equal(current, m.reported) {
		return false, time.Time{}, m
	}
	every := m.every
	if every == 0 {
		every = missingInterval
	}
	if due := m.since.Add(every); now.Before(due) {
		return false, due, m
	}
	m.reported = slices.Clone(current)
	m.since = now
	return true, time.Time{}, m
}

// missingMessage is the human line for a set of missing dependencies.
func missingMessage(deps []string) string {
	shown := deps
	more := ""
	if len(deps) > missingShown {
		shown = deps[:missingShown]
		more = fmt.Sprintf(" and %d more", len(deps)-missingShown)
	}
	return "missing " + strings.Join(shown, ", ") + more + " — waiting"
}
