package runner

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tmplrun/tmplrun/template"
)

func tmpl(dest, mode string, opts ...func(*template.Template)) *template.Template {
	t := template.NewTemplate()
	t.Destination = dest
	t.Data = "x"
	t.ChangeMode = mode
	t.Splay = 0
	for _, o := range opts {
		o(t)
	}
	t.Canonicalize()
	return t
}

func withSignal(sig string) func(*template.Template) {
	return func(t *template.Template) { t.ChangeSignal = sig }
}

func withScript(cmd string, args ...string) func(*template.Template) {
	return func(t *template.Template) {
		t.ChangeScript = template.NewChangeScript()
		t.ChangeScript.Command = cmd
		t.ChangeScript.Args = args
	}
}

func withSplay(d time.Duration) func(*template.Template) {
	return func(t *template.Template) { t.Splay = d }
}

func vaultBlock(mode, sig string) *template.Vault {
	v := template.NewVault()
	v.ChangeMode = mode
	v.ChangeSignal = sig
	v.Canonicalize()
	return v
}

// planView is the part of a plan the tests compare.
type planView struct {
	Restart  bool
	Signals  []string
	Scripts  [][]string // destinations per script
	Splay    time.Duration
	Deferred bool
	Notes    []noteView
}

type noteView struct {
	Kind      Kind
	Mode      string
	Signal    string
	Templates []string
	Token     bool
	Message   string
}

func view(p plan) planView {
	v := planView{Restart: p.restart, Signals: p.signals, Splay: p.splay, Deferred: p.deferred}
	for _, s := range p.scripts {
		v.Scripts = append(v.Scripts, s.templates)
	}
	for _, n := range p.notes {
		ts := n.templates
		if len(ts) == 0 && n.template != "" {
			ts = []string{n.template}
		}
		v.Notes = append(v.Notes, noteView{Kind: n.kind, Mode: n.mode, Signal: n.signal, Templates: ts, Token: n.token, Message: n.message})
	}
	return v
}

func TestPlanChanges(t *testing.T) {
	t.Parallel()
	restartA := tmpl("a.conf", template.ChangeModeRestart, withSplay(4*time.Second))
	hupB := tmpl("b.conf", template.ChangeModeSignal, withSplay(10*time.Second))
	hupC := tmpl("c.conf", template.ChangeModeSignal)
	usr1D := tmpl("d.conf", template.ChangeModeSignal, withSignal("SIGUSR1"))
	scriptE := tmpl("e.conf", template.ChangeModeScript, withScript("./reload", "-e"))
	scriptF := tmpl("f.conf", template.ChangeModeScript, withScript("./reload", "-e")) // same script as e
	scriptG := tmpl("g.conf", template.ChangeModeScript, withScript("./other"))
	noopH := tmpl("h.conf", template.ChangeModeNoop)
	all := []*template.Template{restartA, hupB, hupC, usr1D, scriptE, scriptF, scriptG, noopH}
	data := func(idx ...int) []change {
		var cs []change
		for _, i := range idx {
			cs = append(cs, change{template: i})
		}
		return cs
	}

	tests := []struct {
		name  string
		in    planInput
		state planState
		want  planView
		// wantInProgress is the state's inProgress after the call.
		wantInProgress bool
	}{
		{
			name: "nothing changed, nothing to do",
			in:   planInput{running: true},
			want: planView{},
		},
		{
			name: "restart wins over signals and scripts: one restart, nothing else",
			in:   planInput{changes: data(1, 0, 4), running: true},
			want: planView{Restart: true, Notes: []noteView{{
				Kind: KindChange, Mode: "restart", Templates: []string{"a.conf", "b.conf", "e.conf"},
				Message: "templates a.conf, b.conf, e.conf re-rendered; restarting (change_mode=restart)",
			}}},
			wantInProgress: true,
		},
		{
			name: "each distinct signal once, in template order",
			in:   planInput{changes: data(3, 2, 1), running: true},
			want: planView{Signals: []string{"SIGHUP", "SIGUSR1"}, Notes: []noteView{
				{Kind: KindChange, Mode: "signal", Signal: "SIGHUP", Templates: []string{"b.conf", "c.conf"},
					Message: "templates b.conf, c.conf re-rendered; sending SIGHUP (change_mode=signal)"},
				{Kind: KindChange, Mode: "signal", Signal: "SIGUSR1", Templates: []string{"d.conf"},
					Message: "template d.conf re-rendered; sending SIGUSR1 (change_mode=signal)"},
			}},
			wantInProgress: true,
		},
		{
			name: "signals then every distinct script; identical scripts run once",
			in:   planInput{changes: data(4, 5, 6, 2), running: true},
			want: planView{Signals: []string{"SIGHUP"}, Scripts: [][]string{{"e.conf", "f.conf"}, {"g.conf"}}, Notes: []noteView{
				{Kind: KindChange, Mode: "signal", Signal: "SIGHUP", Templates: []string{"c.conf"},
					Message: "template c.conf re-rendered; sending SIGHUP (change_mode=signal)"},
				{Kind: KindChange, Mode: "script", Templates: []string{"e.conf", "f.conf"},
					Message: "templates e.conf, f.conf re-rendered; running ./reload (change_mode=script)"},
				{Kind: KindChange, Mode: "script", Templates: []string{"g.conf"},
					Message: "template g.conf re-rendered; running ./other (change_mode=script)"},
			}},
			wantInProgress: true,
		},
		{
			name: "noop is reported, nothing is done",
			in:   planInput{changes: data(7), running: true},
			want: planView{Notes: []noteView{{Kind: KindChange, Mode: "noop", Templates: []string{"h.conf"},
				Message: "template h.conf re-rendered (change_mode=noop)"}}},
		},
		{
			name: "splay is rand times the largest splay of the batch",
			in:   planInput{changes: data(1, 2), running: true, rand: 0.5},
			want: planView{Signals: []string{"SIGHUP"}, Splay: 5 * time.Second, Notes: []noteView{
				{Kind: KindChange, Mode: "signal", Signal: "SIGHUP", Templates: []string{"b.conf", "c.conf"},
					Message: "templates b.conf, c.conf re-rendered; sending SIGHUP (change_mode=signal)"}}},
			wantInProgress: true,
		},
		{
			name: "splay stays below the largest splay",
			in:   planInput{changes: data(0), running: true, rand: 1},
			want: planView{Restart: true, Splay: 4*time.Second - 1, Notes: []noteView{{Kind: KindChange, Mode: "restart",
				Templates: []string{"a.conf"}, Message: "template a.conf re-rendered; restarting (change_mode=restart)"}}},
			wantInProgress: true,
		},
		{
			name:           "a change during a restart is kept for after it",
			in:             planInput{changes: data(1), running: true},
			state:          planState{inProgress: true},
			want:           planView{Deferred: true},
			wantInProgress: true,
		},
		{
			name:  "kept changes are planned once the action is over, merged with new ones",
			in:    planInput{changes: data(2), running: true},
			state: planState{pending: data(1, 0)},
			want: planView{Restart: true, Notes: []noteView{{Kind: KindChange, Mode: "restart",
				Templates: []string{"a.conf", "b.conf", "c.conf"},
				Message:   "templates a.conf, b.conf, c.conf re-rendered; restarting (change_mode=restart)"}}},
			wantInProgress: true,
		},
		{
			name: "a signal to a task that is not running is an event, not a failure",
			in:   planInput{changes: data(1), running: false},
			want: planView{Notes: []noteView{{Kind: KindChangeSkipped, Mode: "signal", Signal: "SIGHUP", Templates: []string{"b.conf"},
				Message: "template b.conf re-rendered; task not running, SIGHUP not sent"}}},
		},
		{
			name: "a task that is not running is not restarted",
			in:   planInput{changes: data(0), running: false},
			want: planView{Notes: []noteView{{Kind: KindChangeSkipped, Mode: "restart", Templates: []string{"a.conf"},
				Message: "template a.conf re-rendered; task not running, restart skipped"}}},
		},
		{
			name: "scripts run although the task is not running",
			in:   planInput{changes: data(6), running: false},
			want: planView{Scripts: [][]string{{"g.conf"}}, Notes: []noteView{{Kind: KindChange, Mode: "script",
				Templates: []string{"g.conf"}, Message: "template g.conf re-rendered; running ./other (change_mode=script)"}}},
			wantInProgress: true,
		},
		{
			name: "new token, vault change_mode restart",
			in:   planInput{token: true, vault: vaultBlock("restart", ""), running: true},
			want: planView{Restart: true, Notes: []noteView{{Kind: KindChange, Mode: "restart", Token: true, Templates: []string{},
				Message: "vault token replaced; restarting (change_mode=restart)"}}},
			wantInProgress: true,
		},
		{
			name: "new token and a template restart coalesce into one restart",
			in:   planInput{token: true, vault: vaultBlock("restart", ""), changes: data(0), running: true},
			want: planView{Restart: true, Notes: []noteView{{Kind: KindChange, Mode: "restart", Token: true, Templates: []string{"a.conf"},
				Message: "template a.conf re-rendered and vault token replaced; restarting (change_mode=restart)"}}},
			wantInProgress: true,
		},
		{
			name:  "a new token during a restart is kept and applied after it",
			in:    planInput{token: true, vault: vaultBlock("restart", ""), running: true},
			state: planState{inProgress: true}, want: planView{Deferred: true}, wantInProgress: true,
		},
		{
			name: "new token, vault change_mode signal, same signal as a template: sent once",
			in:   planInput{token: true, vault: vaultBlock("signal", "SIGHUP"), changes: data(1), running: true},
			want: planView{Signals: []string{"SIGHUP"}, Notes: []noteView{{Kind: KindChange, Mode: "signal", Signal: "SIGHUP",
				Token: true, Templates: []string{"b.conf"},
				Message: "template b.conf re-rendered and vault token replaced; sending SIGHUP (change_mode=signal)"}}},
			wantInProgress: true,
		},
		{
			name: "new token, vault change_mode signal of its own",
			in:   planInput{token: true, vault: vaultBlock("signal", "SIGUSR2"), running: true},
			want: planView{Signals: []string{"SIGUSR2"}, Notes: []noteView{{Kind: KindChange, Mode: "signal", Signal: "SIGUSR2",
				Token: true, Message: "vault token replaced; sending SIGUSR2 (change_mode=signal)"}}},
			wantInProgress: true,
		},
		{
			name: "new token, vault change_mode noop",
			in:   planInput{token: true, vault: vaultBlock("noop", ""), running: true},
			want: planView{Notes: []noteView{{Kind: KindChange, Mode: "noop", Token: true,
				Message: "vault token replaced (change_mode=noop)"}}},
		},
		{
			name: "a template listed twice in a batch counts once",
			in:   planInput{changes: append(data(1), change{template: 1}), running: true},
			want: planView{Signals: []string{"SIGHUP"}, Notes: []noteView{{Kind: KindChange, Mode: "signal", Signal: "SIGHUP",
				Templates: []string{"b.conf"}, Message: "template b.conf re-rendered; sending SIGHUP (change_mode=signal)"}}},
			wantInProgress: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.in
			in.templates = all
			got, st := planChanges(in, tc.state)
			if diff := cmp.Diff(tc.want, view(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if st.inProgress != tc.wantInProgress {
				t.Errorf("inProgress = %v, want %v", st.inProgress, tc.wantInProgress)
			}
		})
	}
}

// TestPlanKeepsChangesDuringAnAction walks one restart through: a change
// arrives while it runs, is kept, and is acted on right after it.
func TestPlanKeepsChangesDuringAnAction(t *testing.T) {
	t.Parallel()
	ts := []*template.Template{
		tmpl("a.conf", template.ChangeModeRestart),
		tmpl("b.conf", template.ChangeModeSignal),
	}
	p, st := planChanges(planInput{templates: ts, changes: []change{{0}}, running: true}, planState{})
	if !p.restart || !st.inProgress {
		t.Fatalf("first plan: restart=%v inProgress=%v, want a restart in progress", p.restart, st.inProgress)
	}
	// During the restart: the task is not running and b changes.
	p, st = planChanges(planInput{templates: ts, changes: []change{{1}}, running: false}, st)
	if p.act() || !p.deferred {
		t.Fatalf("during the restart: %+v, want the change kept", view(p))
	}
	// The restart is over: the kept change is acted on.
	st = finishAction(st)
	p, st = planChanges(planInput{templates: ts, running: true}, st)
	if diff := cmp.Diff([]string{"SIGHUP"}, p.signals); diff != "" {
		t.Errorf("after the restart, signals (-want +got):\n%s", diff)
	}
	if len(st.pending) != 0 {
		t.Errorf("pending after planning: %v", st.pending)
	}
}

func TestPlanStateIsNotShared(t *testing.T) {
	t.Parallel()
	ts := []*template.Template{tmpl("a.conf", template.ChangeModeNoop)}
	// Kept changes with room to grow: planning must not append in place.
	st := planState{inProgress: true, pending: make([]change, 1, 4)}
	_, next := planChanges(planInput{templates: ts, changes: []change{{7}}, running: true}, st)
	if got := st.pending[:2]; got[1] != (change{}) {
		t.Errorf("planChanges modified its input state: %v", got)
	}
	if diff := cmp.Diff([]change{{0}, {7}}, next.pending, cmp.AllowUnexported(change{})); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
}

// TestPlanFirstStart: run_on_first_render scripts are an action of the
// planner, so that they never overlap another action (a restart).
func TestPlanFirstStart(t *testing.T) {
	t.Parallel()
	onFirst := func(t *template.Template) { t.ChangeScript.RunOnFirstRender = true }
	ts := []*template.Template{
		tmpl("a.conf", template.ChangeModeRestart),
		tmpl("b.conf", template.ChangeModeScript, withScript("./warm"), onFirst),
		tmpl("c.conf", template.ChangeModeScript, withScript("./warm"), onFirst), // the same script
		tmpl("d.conf", template.ChangeModeScript, withScript("./other")),
	}
	warm := noteView{Kind: KindChange, Mode: "script", Templates: []string{"b.conf", "c.conf"},
		Message: "task started; running ./warm for b.conf, c.conf (run_on_first_render)"}
	tests := []struct {
		name           string
		in             planInput
		state          planState
		want           planView
		wantInProgress bool
		wantPending    bool
	}{
		{
			name:           "first start: each run_on_first_render script once",
			in:             planInput{firstStart: true, running: true},
			want:           planView{Scripts: [][]string{{"b.conf", "c.conf"}}, Notes: []noteView{warm}},
			wantInProgress: true,
		},
		{
			name:           "during an action (a restart) it is kept",
			in:             planInput{firstStart: true, running: true},
			state:          planState{inProgress: true},
			want:           planView{Deferred: true},
			wantInProgress: true, wantPending: true,
		},
		{
			name:           "kept, it runs once the action is over",
			in:             planInput{running: true},
			state:          planState{pendingFirst: true},
			want:           planView{Scripts: [][]string{{"b.conf", "c.conf"}}, Notes: []noteView{warm}},
			wantInProgress: true,
		},
		{
			name: "with a restart in the same batch: the restart alone, the scripts after it",
			in:   planInput{firstStart: true, changes: []change{{0}}, running: true},
			want: planView{Restart: true, Notes: []noteView{{Kind: KindChange, Mode: "restart", Templates: []string{"a.conf"},
				Message: "template a.conf re-rendered; restarting (change_mode=restart)"}}},
			wantInProgress: true, wantPending: true,
		},
		{
			name: "with other scripts: all at once; a script changed and started runs once",
			in:   planInput{firstStart: true, changes: []change{{1}, {3}}, running: true},
			want: planView{Scripts: [][]string{{"b.conf"}, {"d.conf"}}, Notes: []noteView{
				{Kind: KindChange, Mode: "script", Templates: []string{"b.conf"},
					Message: "template b.conf re-rendered; running ./warm (change_mode=script)"},
				{Kind: KindChange, Mode: "script", Templates: []string{"d.conf"},
					Message: "template d.conf re-rendered; running ./other (change_mode=script)"}}},
			wantInProgress: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.in
			in.templates = ts
			got, st := planChanges(in, tc.state)
			if diff := cmp.Diff(tc.want, view(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if st.inProgress != tc.wantInProgress || st.pendingFirst != tc.wantPending {
				t.Errorf("inProgress, pendingFirst = %v, %v; want %v, %v", st.inProgress, st.pendingFirst, tc.wantInProgress, tc.wantPending)
			}
		})
	}
}

// A plan says which of its actions are for a new token, so that a task
// found stopped after the splay is reported the same way (change-skipped
// with Token).
func TestPlanMarksTheTokensAction(t *testing.T) {
	t.Parallel()
	hupB := tmpl("b.conf", template.ChangeModeSignal)
	for _, c := range []struct {
		name        string
		in          planInput
		wantToken   bool
		wantSignal  string
		wantRestart bool
	}{
		{"restart for a token", planInput{token: true, running: true, vault: &template.Vault{ChangeMode: "restart"}}, true, "", true},
		{"restart for a template", planInput{changes: []change{{1}}, running: true, vault: &template.Vault{ChangeMode: "restart"}}, false, "", true},
		{"signal for a token", planInput{token: true, running: true, vault: &template.Vault{ChangeMode: "signal", ChangeSignal: "SIGUSR1"}}, false, "SIGUSR1", false},
		{"signal for a template only", planInput{changes: []change{{0}}, running: true, vault: &template.Vault{ChangeMode: "signal", ChangeSignal: "SIGUSR1"}}, false, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			in.templates = []*template.Template{hupB, tmpl("a.conf", template.ChangeModeRestart)}
			p, _ := planChanges(in, planState{})
			if p.restart != c.wantRestart || p.token != c.wantToken || p.tokenSignal != c.wantSignal {
				t.Errorf("restart %v token %v tokenSignal %q, want %v %v %q",
					p.restart, p.token, p.tokenSignal, c.wantRestart, c.wantToken, c.wantSignal)
			}
		})
	}
}
