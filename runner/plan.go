package runner

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tmplrun/tmplrun/template"
)

// change is one template whose file content changed after its first
// render: the input of planChanges. (A template whose output changes
// without new data is not one: see decideRender.)
type change struct {
	// template is the index in the runner's templates.
	template int
}

// planInput is everything planChanges looks at. It holds no I/O: time and
// randomness come in as values.
type planInput struct {
	templates []*template.Template
	// vault is the task's vault block (nil: no vault).
	vault *template.Vault

	changes []change
	// token is true when a new Vault token replaced the old one.
	token bool
	// firstStart is true when the task's process has just started for the
	// first time (Runner.TaskStarted): its run_on_first_render scripts run.
	firstStart bool
	// running is whether the task's process runs now.
	running bool
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
	pendingFirst bool
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
	// token: the restart is (also) for a new Vault token; tokenSignal is
	// the signal sent for one. For the events of a task that stopped
	// meanwhile.
	token       bool
	tokenSignal string
	// signals to send, each once, in order; then scripts, all at once.
	signals []string
	// templates are the destinations behind the restart, or behind each
	// signal (by signal), for the events of a task that stopped meanwhile.
	templates map[string][]string
	scripts   []scriptAction
	// splay is how long to wait before acting.
	splay time.Duration
	// deferred is true when the batch was kept for after the action in
	// progress.
	deferred bool
	notes    []note
}

// act reports whether the plan has anything to carry out.
func (p plan) act() bool { return p.restart || len(p.signals) > 0 || len(p.scripts) > 0 }

// planChanges decides what to do about changed templates, a new token and
// the task's first start. The rules, in order:
//
//  1. While an action is in progress, everything is kept for later.
//  2. Kept changes are merged with the new ones; a template counts once.
//  3. Any restart (a template's change_mode, or the vault block's on a new
//     token) wins: one restart, nothing else; a first start's scripts are
//     kept for after it.
//  4. Otherwise each distinct signal once, in template order, then every
//     distinct script at once — the run_on_first_render ones of a first
//     start among them. noop templates are reported only.
//  5. A task that is not running is not restarted or signalled (an event,
//     not a failure); scripts still run.
//  6. The splay is rand × the largest splay among the changed templates.
func planChanges(in planInput, st planState) (plan, planState) {
	st = st.clone()
	if st.inProgress {
		st.pending = append(st.pending, in.changes...)
		st.pendingToken = st.pendingToken || in.token
		st.pendingFirst = st.pendingFirst || in.firstStart
		return plan{deferred: len(in.changes) > 0 || in.token || in.firstStart}, st
	}
	changes := mergeChanges(append(st.pending, in.changes...))
	token := in.token || st.pendingToken
	first := in.firstStart || st.pendingFirst
	st.pending, st.pendingToken, st.pendingFirst = nil, false, false

	var p plan
	acted := make([]int, 0, len(changes))
	for _, c := range changes {
		acted = append(acted, c.template)
	}
	if len(acted) == 0 && !token && !first {
		return p, st
	}

	tokenMode := template.ChangeModeNoop
	tokenSignal := ""
	if token && in.vault != nil {
		tokenMode, tokenSignal = in.vault.ChangeMode, in.vault.ChangeSignal
	}

	// Rule 3: restart wins.
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
			if first {
				p.addFirstStart(in.templates)
				st.inProgress = p.act()
			}
			return p, st
		}
		st.pendingFirst = first
		p.restart = true
		p.templates = map[string][]string{"": dests}
		p.restartReason = msg
		p.token = token
		p.notes = append(p.notes, note{kind: KindChange, mode: template.ChangeModeRestart,
			templates: dests, token: token, message: msg + "; restarting (change_mode=restart)"})
		p.splay = splay(in, acted)
		st.inProgress = true
		return p, st
	}

	// Rule 4: signals once each, then scripts; noop is reported.
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
		if byToken {
			p.tokenSignal = sig
		}
		if p.templates == nil {
			p.templates = map[string][]string{}
		}
		p.templates[sig] = dests
		p.notes = append(p.notes, note{kind: KindChange, mode: template.ChangeModeSignal, signal: sig,
			templates: dests, token: byToken,
			message: fmt.Sprintf("%s; sending %s (change_mode=signal)", msg, sig)})
	}
	p.signals = signals
	for _, s := range p.scripts {
		p.notes = append(p.notes, note{kind: KindChange, mode: template.ChangeModeScript, templates: s.templates,
			message: fmt.Sprintf("%s; running %s (change_mode=script)", renderedMessage(s.templates), s.script.Command)})
	}
	if first {
		p.addFirstStart(in.templates)
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

// mergeChanges keeps one change per template, in template order.
func mergeChanges(cs []change) []change {
	seen := map[int]bool{}
	var order []int
	for _, c := range cs {
		if !seen[c.template] {
			seen[c.template] = true
			order = append(order, c.template)
		}
	}
	slices.Sort(order)
	out := make([]change, 0, len(order))
	for _, i := range order {
		out = append(out, change{template: i})
	}
	return out
}

// addFirstStart adds the run_on_first_render scripts to the plan; one that
// is already in it for a change runs once, under that change's note (one
// action, counted once).
func (p *plan) addFirstStart(ts []*template.Template) {
	for _, s := range firstStartScripts(ts) {
		if hasScript(p.scripts, s.script) {
			continue
		}
		p.notes = append(p.notes, note{kind: KindChange, mode: template.ChangeModeScript, templates: s.templates,
			message: fmt.Sprintf("task started; running %s for %s (run_on_first_render)", s.script.Command, strings.Join(s.templates, ", "))})
		p.scripts = append(p.scripts, s)
	}
}

// firstStartScripts are the run_on_first_render scripts, each once.
func firstStartScripts(ts []*template.Template) []scriptAction {
	var scripts []scriptAction
	for _, t := range ts {
		if t.ChangeMode == template.ChangeModeScript && t.ChangeScript != nil && t.ChangeScript.RunOnFirstRender {
			scripts = addScript(scripts, t)
		}
	}
	return scripts
}

func hasScript(scripts []scriptAction, s *template.ChangeScript) bool {
	for _, o := range scripts {
		if sameScript(o.script, s) {
			return true
		}
	}
	return false
}

func sameScript(a, b *template.ChangeScript) bool {
	return a.Command == b.Command && slices.Equal(a.Args, b.Args) && a.Timeout == b.Timeout &&
		a.FailOnError == b.FailOnError
}

func addScript(scripts []scriptAction, t *template.Template) []scriptAction {
	s := t.ChangeScript
	if s == nil {
		return scripts
	}
	for i := range scripts {
		if sameScript(scripts[i].script, s) {
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
	st.pending = slices.Clone(st.pending)
	return st
}
