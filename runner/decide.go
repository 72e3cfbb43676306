package runner

import "time"

// outcome is what to do with a template's new output (decideRender).
type outcome int

const (
	// outcomeWrite: write the output now (identical content writes
	// nothing, but puts back a mode or owner someone changed).
	outcomeWrite outcome = iota
	// outcomeWait: new data; write once it has been quiet (quiescence).
	outcomeWait
	// outcomeUnstable: the output changed although none of the
	// template's data did (timestamp, uuid, random): the file is left as
	// it is and nothing fires, until the template's own data changes
	// (nomad#20618).
	outcomeUnstable
)

// renderInput is what decideRender looks at for one template after it was
// executed. It holds no I/O: time comes in as a value.
type renderInput struct {
	// first: the template has never rendered (or the runner renders once:
	// tmplrun render, once templates). Nothing waits then.
	first bool
	// dataChanged: a dependency the output was made from changed since the
	// file was last written (fingerprints differ). outputChanged: the
	// output differs from the file last written.
	dataChanged, outputChanged bool
	// fired: the template's quiescence timer went off.
	fired bool
	wait  waitWindow
	fp    uint64 // the data's fingerprint now
	now   time.Time
}

// quiet is a template's pending quiescence: data first changed at first,
// write at due (zero: nothing scheduled); fp is the data then.
type quiet struct {
	first, due time.Time
	fp         uint64
}

// decideRender decides what to do with a template's new output and returns
// its quiescence state after it. The rules, in order:
//
//  1. A first render is written at once.
//  2. Output identical to the file: write (a no-op, unless the file's mode
//     or owner was changed on disk), nothing left scheduled.
//  3. Output changed, data not: unstable. Not written, nothing scheduled:
//     rewriting it would fire its change mode for nothing, and a timer for
//     it would re-execute the other templates, whose own timers would
//     re-execute it — the loop of nomad#20618.
//  4. Output and data changed: with quiescence, wait — min after the
//     latest new data, no later than max after the first — unless the
//     timer fired; else write now.
func decideRender(in renderInput, q quiet) (outcome, quiet) {
	switch {
	case in.first, !in.outputChanged:
		return outcomeWrite, quiet{}
	case !in.dataChanged:
		return outcomeUnstable, quiet{}
	case !in.wait.enabled() || in.fired:
		return outcomeWrite, quiet{}
	}
	if q.due.IsZero() || in.fp != q.fp {
		if q.first.IsZero() {
			q.first = in.now
		}
		q.due, q.fp = quiescenceDue(q.first, in.now, in.wait), in.fp
	}
	return outcomeWait, q
}
