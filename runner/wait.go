package runner

import (
	"time"

	"github.com/tmplrun/tmplrun/template"
)

// waitWindow is a template's effective quiescence: after new data, render
// only once it has been quiet for min, and no later than max after the
// first change. The zero value disables quiescence.
type waitWindow struct {
	min, max time.Duration
}

func (w waitWindow) enabled() bool { return w.min > 0 || w.max > 0 }

// effectiveWait is the template's own wait, else the node-wide one, each
// bound clamped into wait_bounds, as Nomad does.
func effectiveWait(t *template.Template, tc *template.TemplateConfig) waitWindow {
	var w *template.Wait
	if t.Wait != nil {
		w = t.Wait
	} else if tc != nil {
		w = tc.Wait
	}
	var out waitWindow
	if w != nil {
		if w.Min != nil {
			out.min = *w.Min
		}
		if w.Max != nil {
			out.max = *w.Max
		}
	}
	if tc != nil && tc.WaitBounds != nil {
		out.min = clamp(out.min, tc.WaitBounds)
		out.max = clamp(out.max, tc.WaitBounds)
	}
	if out.max < out.min {
		out.max = out.min
	}
	return out
}

func clamp(d time.Duration, b *template.Wait) time.Duration {
	if b.Min != nil && d < *b.Min {
		d = *b.Min
	}
	if b.Max != nil && d > *b.Max {
		d = *b.Max
	}
	return d
}

// quiescenceDue is when a template that first saw new data at first and
// again at now should render: min after the latest change, but no later
// than max after the first.
func quiescenceDue(first, now time.Time, w waitWindow) time.Time {
	due := now.Add(w.min)
	if deadline := first.Add(w.max); w.max > 0 && deadline.Before(due) {
		due = deadline
	}
	return due
}
