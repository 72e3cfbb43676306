package runner

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/template"
)

func TestReRenderActsOnlyOnChangedTemplates(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/a.conf", `{{ file "local/a.in" }}`, mode(template.ChangeModeSignal)),
		data("local/b.conf", `{{ file "local/b.in" }}`, mode(template.ChangeModeRestart)),
	)
	task := newFakeTask(false)
	cfg.Lifecycle = task
	writeFile(t, filepath.Join(cfg.Dir, "local/a.in"), "a1")
	writeFile(t, filepath.Join(cfg.Dir, "local/b.in"), "b1")
	r := start(t, cfg)
	waitFirst(t, r)
	task.setRunning(true)

	writeFile(t, filepath.Join(cfg.Dir, "local/a.in"), "a22")
	if diff := cmp.Diff([]string{"signal SIGHUP"}, task.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := readFile(t, filepath.Join(cfg.Dir, "local/a.conf")); got != "a22" {
		t.Errorf("a.conf = %q", got)
	}
	writeFile(t, filepath.Join(cfg.Dir, "local/b.in"), "b22")
	if diff := cmp.Diff([]string{"signal SIGHUP", "restart"}, task.waitCalls(t, 2)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestSignalToStoppedTaskIsAnEvent(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, data("local/a.conf", `{{ file "local/a.in" }}`, mode(template.ChangeModeSignal)))
	task := newFakeTask(false)
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/a.in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	writeFile(t, filepath.Join(cfg.Dir, "local/a.in"), "22")
	e := ev.wait(t, "change-skipped", kind(KindChangeSkipped))
	if e.Signal != "SIGHUP" || !strings.Contains(e.Message, "task not running") {
		t.Errorf("event %+v", e)
	}
	if calls := task.Calls(); len(calls) != 0 {
		t.Errorf("lifecycle called: %v", calls)
	}
	if r.Err() != nil {
		t.Errorf("runner failed: %v", r.Err())
	}
}

func TestChangeScriptFailOnErrorKillsTheTask(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, data("local/a.conf", `{{ file "local/in" }}`, mode(template.ChangeModeScript),
		func(t *template.Template) {
			t.ChangeScript = template.NewChangeScript()
			t.ChangeScript.Command = "./reload.sh"
			t.ChangeScript.Args = []string{"now"}
			t.ChangeScript.FailOnError = true
		}))
	task := newFakeTask(false)
	task.exit = 3
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	task.setRunning(true)
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
	if diff := cmp.Diff([]string{"exec ./reload.sh now", "kill"}, task.waitCalls(t, 2)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	e := ev.wait(t, "script failed", kind(KindChangeFailed))
	if !strings.Contains(e.Message, "exited with code 3") || !strings.Contains(e.Message, "fail_on_error") ||
		e.ExitCode != 3 || e.Duration <= 0 {
		t.Errorf("event %+v", e)
	}
}

func TestTaskStartedRunsFirstRenderScriptsOnce(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/a.conf", "a", mode(template.ChangeModeScript), func(t *template.Template) {
			t.ChangeScript = template.NewChangeScript()
			t.ChangeScript.Command = "./warm"
			t.ChangeScript.RunOnFirstRender = true
		}),
		data("local/b.conf", "b", mode(template.ChangeModeScript), func(t *template.Template) {
			t.ChangeScript = template.NewChangeScript()
			t.ChangeScript.Command = "./not-first"
		}),
	)
	task := newFakeTask(false)
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	waitFirst(t, r)
	task.setRunning(true)
	r.TaskStarted()
	r.TaskStarted()
	if diff := cmp.Diff([]string{"exec ./warm"}, task.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	ev.wait(t, "first render script", func(e Event) bool { return strings.Contains(e.Message, "run_on_first_render") })
	if n := ev.count(func(e Event) bool { return strings.Contains(e.Message, "run_on_first_render") }); n != 1 {
		t.Errorf("%d run_on_first_render events, want 1", n)
	}
}

func TestChangeDuringRestartIsHandledAfterIt(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/a.conf", `{{ file "local/a.in" }}`, mode(template.ChangeModeRestart)),
		data("local/b.conf", `{{ file "local/b.in" }}`, mode(template.ChangeModeSignal)),
	)
	task := newFakeTask(false)
	task.block = make(chan struct{})
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/a.in"), "1")
	writeFile(t, filepath.Join(cfg.Dir, "local/b.in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	task.setRunning(true)

	writeFile(t, filepath.Join(cfg.Dir, "local/a.in"), "22")
	select {
	case <-task.restarting:
	case <-time.After(testTimeout):
		t.Fatal("no restart")
	}
	// While the restart hangs, b changes.
	writeFile(t, filepath.Join(cfg.Dir, "local/b.in"), "22")
	ev.wait(t, "b re-rendered", kindFor(KindRendered, "local/b.conf"))
	if calls := task.Calls(); len(calls) != 0 {
		t.Fatalf("acted during the restart: %v", calls)
	}
	close(task.block)
	if diff := cmp.Diff([]string{"restart", "signal SIGHUP"}, task.waitCalls(t, 2)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestUnstableTemplateIsRewrittenOnlyWhenItsDataChanges(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		// Changes on every execution, whatever the data.
		data("local/stamp.conf", `{{ timestamp "2006-01-02T15:04:05.000000000Z07:00" }}`,
			mode(template.ChangeModeSignal), func(t *template.Template) { t.ChangeSignal = "SIGUSR1" }),
		data("local/data.conf", `{{ file "local/in" }}`, mode(template.ChangeModeSignal)),
	)
	task := newFakeTask(false)
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	stamp := readFile(t, filepath.Join(cfg.Dir, "local/stamp.conf"))
	task.setRunning(true)

	// Each data change re-executes every template: stamp.conf changes
	// without new data. It is reported, not rewritten, and fires nothing.
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
	ev.wait(t, "unstable reported", kindFor(KindUnstable, "local/stamp.conf"))
	if diff := cmp.Diff([]string{"signal SIGHUP"}, task.waitCalls(t, 1)); diff != "" {
		t.Errorf("first change, calls (-want +got):\n%s", diff)
	}
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "333")
	if diff := cmp.Diff([]string{"signal SIGHUP", "signal SIGHUP"}, task.waitCalls(t, 2)); diff != "" {
		t.Errorf("second change, calls (-want +got):\n%s", diff)
	}
	if !r.Status().Templates[0].Unstable {
		t.Error("status does not mark stamp.conf unstable")
	}
	if n := ev.count(kind(KindUnstable)); n != 1 {
		t.Errorf("%d unstable events, want 1", n)
	}
	if got := readFile(t, filepath.Join(cfg.Dir, "local/stamp.conf")); got != stamp {
		t.Errorf("stamp.conf rewritten without new data: %q, was %q", got, stamp)
	}
	if n := ev.count(kindFor(KindRendered, "local/stamp.conf")); n != 1 {
		t.Errorf("stamp.conf rendered %d times, want 1", n)
	}
}

// TestUnstableTemplatesWithWaitsDoNotFeedEachOther is nomad#20618: two
// templates with {{ timestamp }} and different waits. Each one's
// quiescence timer re-executed the other, whose output had changed, which
// scheduled its own timer… (~28 writes/s, a restart every window). An
// unstable change schedules nothing: once the data change is handled,
// nothing is left to wake the runner.
func TestUnstableTemplatesWithWaitsDoNotFeedEachOther(t *testing.T) {
	t.Parallel()
	wait := func(min, max time.Duration) func(*template.Template) {
		return func(t *template.Template) { t.Wait = &template.Wait{Min: dur(min), Max: dur(max)} }
	}
	cfg := testConfig(t,
		data("local/a.conf", `{{ timestamp "2006-01-02T15:04:05.000000000Z07:00" }} {{ file "local/in" }}`,
			mode(template.ChangeModeRestart), wait(10*time.Millisecond, 20*time.Millisecond)),
		data("local/b.conf", `{{ timestamp "2006-01-02T15:04:05.000000000Z07:00" }}`,
			mode(template.ChangeModeRestart), wait(30*time.Millisecond, 40*time.Millisecond)),
	)
	task := newFakeTask(false)
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	task.setRunning(true)

	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
	// a.conf is written once its wait is over, in the pass its timer
	// fires; b.conf, re-executed then and before, is unstable.
	ev.wait(t, "a.conf re-rendered", ev.nth(KindRendered, "local/a.conf", 2))
	ev.wait(t, "b.conf unstable", kindFor(KindUnstable, "local/b.conf"))
	if diff := cmp.Diff([]string{"restart"}, task.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	r.Stop()
	// The loop has returned: its state can be read.
	for _, ts := range r.tmpls {
		if !ts.quiet.due.IsZero() {
			t.Errorf("%s: quiescence still scheduled for %v", ts.spec.Destination, ts.quiet.due)
		}
	}
	if wake := r.nextWake(time.Time{}); !wake.IsZero() {
		t.Errorf("the runner would wake at %v with nothing to do", wake)
	}
	if n := ev.count(kindFor(KindRendered, "local/b.conf")); n != 1 {
		t.Errorf("b.conf rendered %d times, want 1 (the first render)", n)
	}
	if n := ev.count(kindFor(KindRendered, "local/a.conf")); n != 2 {
		t.Errorf("a.conf rendered %d times, want 2", n)
	}
}

func TestOnceTemplateIsNotWatched(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/once.conf", `{{ file "local/in" }}`, func(t *template.Template) { t.Once = true }),
		data("local/watched.conf", `{{ file "local/in" }}`),
	)
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
	ev.wait(t, "watched re-rendered", ev.nth(KindRendered, "local/watched.conf", 2))
	if got := readFile(t, filepath.Join(cfg.Dir, "local/once.conf")); got != "1" {
		t.Errorf("once template re-rendered: %q", got)
	}
}

func TestSetTokenAppliesVaultChangeModeOnlyForANewToken(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, data("local/a.conf", "a"))
	cfg.Vault = vaultBlock("restart", "")
	cfg.Token = "hvs.first"
	task := newFakeTask(false)
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	waitFirst(t, r)
	task.setRunning(true)
	r.SetToken("hvs.first") // the same token: a renewal, nothing to do
	r.SetToken("hvs.second")
	if diff := cmp.Diff([]string{"restart"}, task.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	e := ev.wait(t, "token change", func(e Event) bool { return e.Kind == KindChange && e.Token })
	if e.Mode != "restart" || e.Message != "vault token replaced; restarting (change_mode=restart)" {
		t.Errorf("event %+v", e)
	}
}

func TestQuiescenceRendersOnceTheDataIsQuiet(t *testing.T) {
	t.Parallel()
	w := &template.Wait{Min: dur(20 * time.Millisecond), Max: dur(50 * time.Millisecond)}
	cfg := testConfig(t, data("local/a.conf", `{{ file "local/in" }}`, mode(template.ChangeModeSignal),
		func(t *template.Template) { t.Wait = w }))
	task := newFakeTask(false)
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
	r := start(t, cfg)
	waitFirst(t, r) // the first render does not wait
	task.setRunning(true)
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
	// Rendered only through the quiescence timer.
	if diff := cmp.Diff([]string{"signal SIGHUP"}, task.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := readFile(t, filepath.Join(cfg.Dir, "local/a.conf")); got != "22" {
		t.Errorf("a.conf = %q", got)
	}
}
