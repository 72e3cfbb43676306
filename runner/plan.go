package runner

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tmplrun/tmplrun/template"
)

// change is one template whose file content changed after its first
// render: the input of planChanges.
type change struct {
	// template is the index in the runner's templates.
	template int
	// inputsChanged is false when the output changed although none of the
	// template's dependencies did: the template is not a function of its
	// data (timestamp, uuid, random).
	inputsChanged bool
}

// planInput is everything planChanges looks at. It holds no I/O: time and
// randomness come in as values.
type planInput struct {
	templates []*template.Template
	// windows[i] is template i's quiescence window: an unstable template
	// fires at most once per window.
	windows []time.Duration
	// vault is the task's vault block (nil: no vault).
	vault *template.Vault

	changes []change
	// token is true when a new Vault token replaced the old one.
	token bool
	// running is whether the task's process runs now.
	running bool
	now     time.Time
	// rand is a random number in [0, 1) that picks the splay.
	rand float64
}

// planState is what was already handled: the planner's memory between
// calls. The zero value is a fresh task.
type planState struct {
	// inProgress is true while the actions of the previous plan are being
	// carried out (splay, restart, signals, scripts). Changes that arrive
	// then are kept in pending and planned when it ends (nomad#22224).
	inProgress   bool
	pending      []change
	pendingToken bool

	// lastAction[i] is when a change of template i was last acted on.
	lastAction map[int]time.Time
	// unstable[i] is true once template i was seen changing on its own.
	unstable map[int]bool
}

// scriptAction is one change script to run and the templates it is for.
type scriptAction struct {
	script    *template.ChangeScript
	templates []string
}

// note is an event the plan asks to be reported.
type note struct {
	kind      Kind
	template  string
	templates []string
	mode      string
	signal    string
	token     bool
	message   string
}

// plan is what to do about a batch of changes.
type plan struct {
	// restart: restart the task, and do nothing else.
	restart bool
	// restartReason is the human reason handed to Lifecycle.Restart.
	restartReason string
	// signals to send, each once, in order; then scripts, all at once.
	signals []string
	scripts []scriptAction
	// splay is how long to wait before acting.
	splay time.Duration
	// deferred is true when the batch was kept for after the action in
	// progress.
	deferred bool
	notes    []note
}

// act reports whether the plan has anything to carry out.
func (p plan) act() bool { return p.restart || len(p.signals) > 0 || len(p.scripts) > 0 }

// planChanges decides what to do about changed templates and a new token.
// The rules, in order:
//
//  1. While an action is in progress, everything is kept for later.
//  2. Kept changes are merged with the new ones; a template counts once.
//  3. A change that came without new data (an unstable template) is acted
//     on at most once per the template's window; the first one is reported.
//  4. Any restart (a template's change_mode, or the vault block's on a new
//     token) wins: one restart, nothing else.
//  5. Otherwise each distinct signal once, in template order, then every
//     distinct script at once. noop templates are reported only.
//  6. A task that is not running is not restarted or signalled (an event,
//     not a failure); scripts still run.
//  7. The splay is rand × the largest splay among the acted-on templates.
func planChanges(in planInput, st planState) (plan, planState) {
	st = st.clone()
	if st.inProgress {
		st.pending = append(st.pending, in.changes...)
		st.pendingToken = st.pendingToken || in.token
		return plan{deferred: len(in.changes) > 0 || in.token}, st
	}
	changes := mergeChanges(append(st.pending, in.changes...))
	token := in.token || st.pendingToken
	st.pending, st.pendingToken = nil, false

	var p plan
	var acted []int
	for _, c := range changes {
		t := in.templates[c.template]
		if !c.inputsChanged {
			window := windowOf(in.windows, c.template)
			if !st.unstable[c.template] {
				st.unstable[c.template] = true
				p.notes = append(p.notes, note{
					kind: KindUnstable, template: t.Destination,
					message: fmt.Sprintf("template %s changes on every render although its data did not change (timestamp? random?); its change_mode fires at most once every %s", t.Destination, window),
				})
			}
			if last, ok := st.lastAction[c.template]; ok && in.now.Sub(last) < window {
				continue
			}
		}
		acted = append(acted, c.template)
		st.lastAction[c.template] = in.now
	}
	if len(acted) == 0 && !token {
		return p, st
	}

	tokenMode := template.ChangeModeNoop
	tokenSignal := ""
	if token && in.vault != nil {
		tokenMode, tokenSignal = in.vault.ChangeMode, in.vault.ChangeSignal
	}

	// Rule 4: restart wins.
	var restartBy []string
	for _, i := range acted {
		if in.templates[i].ChangeMode == template.ChangeModeRestart {
			restartBy = append(restartBy, in.templates[i].Destination)
		}
	}
	if len(restartBy) > 0 || tokenMode == template.ChangeModeRestart {
		dests := destinations(in.templates, acted)
		msg := restartMessage(dests, token)
		if !in.running {
			p.notes = append(p.notes, note{kind: KindChangeSkipped, mode: template.ChangeModeRestart,
				templates: dests, token: token, message: msg + "; task not running, restart skipped"})
			return p, st
		}
		p.restart = true
		p.restartReason = msg
		p.notes = append(p.notes, note{kind: KindChange, mode: template.ChangeModeRestart,
			templates: dests, token: token, message: msg + "; restarting (change_mode=restart)"})
		p.splay = splay(in, acted)
		st.inProgress = true
		return p, st
	}

	// Rule 5: signals once each, then scripts; noop is reported.
	bySignal := map[string][]string{}
	var noop []string
	for _, i := range acted {
		t := in.templates[i]
		switch t.ChangeMode {
		case template.ChangeModeSignal:
			if _, seen := bySignal[t.ChangeSignal]; !seen {
				p.signals = append(p.signals, t.ChangeSignal)
			}
			bySignal[t.ChangeSignal] = append(bySignal[t.ChangeSignal], t.Destination)
		case template.ChangeModeScript:
			p.scripts = addScript(p.scripts, t)
		default:
			noop = append(noop, t.Destination)
		}
	}
	tokenSignalled := false
	if tokenMode == template.ChangeModeSignal && tokenSignal != "" {
		if _, seen := bySignal[tokenSignal]; !seen {
			p.signals = append(p.signals, tokenSignal)
		}
		tokenSignalled = true
	}
	if token && tokenMode == template.ChangeModeNoop {
		p.notes = append(p.notes, note{kind: KindChange, mode: template.ChangeModeNoop, token: true,
			message: "vault token replaced (change_mode=noop)"})
	}
	for _, d := range noop {
		p.notes = append(p.notes, note{kind: KindChange, mode: template.ChangeModeNoop, template: d,
			templates: []string{d}, message: fmt.Sprintf("template %s re-rendered (change_mode=noop)", d)})
	}
	var signals []string
	for _, sig := range p.signals {
		dests := bySignal[sig]
		byToken := tokenSignalled && sig == tokenSignal
		msg := restartMessage(dests, byToken)
		if !in.running {
			p.notes = append(p.notes, note{kind: KindChangeSkipped, mode: template.ChangeModeSignal,
				signal: sig, templates: dests, token: byToken,
				message: fmt.Sprintf("%s; task not running, %s not sent", msg, sig)})
			continue
		}
		signals = append(signals, sig)
		p.notes = append(p.notes, note{kind: KindChange, mode: template.ChangeModeSignal, signal: sig,
			templates: dests, token: byToken,
			message: fmt.Sprintf("%s; sending %s (change_mode=signal)", msg, sig)})
	}
	p.signals = signals
	for _, s := range p.scripts {
		p.notes = append(p.notes, note{kind: KindChange, mode: template.ChangeModeScript, templates: s.templates,
			message: fmt.Sprintf("%s; running %s (change_mode=script)", renderedMessage(s.templates), s.script.Command)})
	}
	if p.act() {
		p.splay = splay(in, acted)
		st.inProgress = true
	}
	return p, st
}

// finishAction records that the actions of the last plan are done.
func finishAction(st planState) planState {
	st = st.clone()
	st.inProgress = false
	return st
}

// mergeChanges keeps one change per template, in template order; a
// template whose data changed in any of them counts as data-changed.
func mergeChanges(cs []change) []change {
	byTmpl := map[int]bool{}
	var order []int
	for _, c := range cs {
		prev, seen := byTmpl[c.template]
		if !seen {
			order = append(order, c.template)
		}
		byTmpl[c.template] = prev || c.inputsChanged
	}
	slices.Sort(order)
	out := make([]change, 0, len(order))
	for _, i := range order {
		out = append(out, change{template: i, inputsChanged: byTmpl[i]})
	}
	return out
}

func addScript(scripts []scriptAction, t *template.Template) []scriptAction {
	s := t.ChangeScript
	if s == nil {
		return scripts
	}
	for i := range scripts {
		o := scripts[i].script
		if o.Command == s.Command && slices.Equal(o.Args, s.Args) && o.Timeout == s.Timeout &&
			o.FailOnError == s.FailOnError {
			scripts[i].templates = append(scripts[i].templates, t.Destination)
			return scripts
		}
	}
	return append(scripts, scriptAction{script: s, templates: []string{t.Destination}})
}

func splay(in planInput, acted []int) time.Duration {
	var largest time.Duration
	for _, i := range acted {
		largest = max(largest, in.templates[i].Splay)
	}
	r := min(max(in.rand, 0), 1)
	d := time.Duration(r * float64(largest))
	if d >= largest && largest > 0 {
		d = largest - 1
	}
	return d
}

func windowOf(windows []time.Duration, i int) time.Duration {
	if i < len(windows) && windows[i] > 0 {
		return windows[i]
	}
	return minUnstableWindow
}

func destinations(ts []*template.Template, idx []int) []string {
	out := make([]string, 0, len(idx))
	for _, i := range idx {
		out = append(out, ts[i].Destination)
	}
	return out
}

func renderedMessage(dests []string) string {
	if len(dests) == 1 {
		return "template " + dests[0] + " re-rendered"
	}
	return "templates " + strings.Join(dests, ", ") + " re-rendered"
}

func restartMessage(dests []string, token bool) string {
	switch {
	case len(dests) == 0:
		return "vault token replaced"
	case token:
		return renderedMessage(dests) + " and vault token replaced"
	default:
		return renderedMessage(dests)
	}
}

func (st planState) clone() planState {
	out := planState{
		inProgress:   st.inProgress,
		pending:      slices.Clone(st.pending),
		pendingToken: st.pendingToken,
		lastAction:   make(map[int]time.Time, len(st.lastAction)),
		unstable:     make(map[int]bool, len(st.unstable)),
	}
	for k, v := range st.lastAction {
		out.lastAction[k] = v
	}
	for k, v := range st.unstable {
		out.unstable[k] = v
	}
	return out
}
