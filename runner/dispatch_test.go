package runner

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/template"
)

func script(cmd string, opts ...func(*template.ChangeScript)) func(*template.Template) {
	return func(t *template.Template) {
		t.ChangeMode = template.ChangeModeScript
		t.ChangeScript = template.NewChangeScript()
		t.ChangeScript.Command = cmd
		for _, o := range opts {
			o(t.ChangeScript)
		}
	}
}

// TestTaskStoppedDuringTheSplayIsSkipped: the task ran when the change was
// planned and stopped during the splay. Signalling or restarting it then
// would fail; it is an event, change-skipped (nomad#5459).
func TestTaskStoppedDuringTheSplayIsSkipped(t *testing.T) {
	t.Parallel()
	for _, m := range []string{template.ChangeModeSignal, template.ChangeModeRestart} {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t, data("local/a.conf", `{{ file "local/in" }}`, mode(m),
				func(t *template.Template) { t.Splay = time.Hour }))
			task := newFakeTask(false)
			cfg.Lifecycle = task
			ev := newEvents()
			cfg.Events = ev
			writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
			r, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			inSplay, release := make(chan struct{}), make(chan struct{})
			r.disp.splay = func(ctx context.Context, _ time.Duration) bool {
				close(inSplay)
				select {
				case <-release:
					return true
				case <-ctx.Done():
					return false
				}
			}
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(r.Stop)
			waitFirst(t, r)
			task.setRunning(true)
			writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
			select {
			case <-inSplay:
			case <-time.After(testTimeout):
				t.Fatal("no splay")
			}
			task.setRunning(false)
			close(release)
			e := ev.wait(t, "change-skipped", kind(KindChangeSkipped))
			if e.Mode != m || e.Template != "local/a.conf" || !strings.Contains(e.Message, "task not running") {
				t.Errorf("event %+v", e)
			}
			r.Stop()
			if calls := task.Calls(); len(calls) != 0 {
				t.Errorf("lifecycle called for a stopped task: %v", calls)
			}
			if n := ev.count(kind(KindChangeFailed)); n != 0 {
				t.Errorf("%d change-failed events", n)
			}
		})
	}
}

// TestFirstRenderScriptsWaitForARestart: TaskStarted during a restart
// does not run the run_on_first_render scripts beside it, but after it.
func TestFirstRenderScriptsWaitForARestart(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/a.conf", `{{ file "local/in" }}`, mode(template.ChangeModeRestart)),
		data("local/b.conf", "b", script("./warm", func(s *template.ChangeScript) { s.RunOnFirstRender = true })),
	)
	task := newFakeTask(false)
	task.block = make(chan struct{})
	cfg.Lifecycle = task
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	task.setRunning(true)
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
	select {
	case <-task.restarting:
	case <-time.After(testTimeout):
		t.Fatal("no restart")
	}
	r.TaskStarted()
	// Wait until the dispatcher has taken the start.
	deadline := time.Now().Add(testTimeout)
	for {
		r.disp.mu.Lock()
		taken := r.disp.firstSeen && !r.disp.firstStart
		r.disp.mu.Unlock()
		if taken {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dispatcher never took the start")
		}
		time.Sleep(time.Millisecond) // polling a condition with a deadline
	}
	if calls := task.Calls(); len(calls) != 0 {
		t.Fatalf("acted during the restart: %v", calls)
	}
	close(task.block)
	if diff := cmp.Diff([]string{"restart", "exec ./warm"}, task.waitCalls(t, 2)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestSuccessfulScriptIsReported(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, data("local/a.conf", `{{ file "local/in" }}`, script("./reload")))
	task := newFakeTask(true)
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
	e := ev.wait(t, "change-done", kind(KindChangeDone))
	if e.Mode != "script" || e.ExitCode != 0 || e.Duration <= 0 || e.Template != "local/a.conf" ||
		!strings.HasPrefix(e.Message, "change script ./reload for local/a.conf done (exit 0, ") {
		t.Errorf("event %+v", e)
	}
}

// TestBatchScriptsRunConcurrently: two scripts of one batch each wait for
// the other to have started; run one after the other they would never end.
func TestBatchScriptsRunConcurrently(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/a.conf", `{{ file "local/in" }}`, script("./one")),
		data("local/b.conf", `{{ file "local/in" }}`, script("./two")),
	)
	task := newFakeTask(true)
	entered := make(chan string, 2)
	both := make(chan struct{})
	task.execFn = func(ctx context.Context, s *template.ChangeScript) (int, error) {
		entered <- s.Command
		select {
		case <-both:
			return 0, nil
		case <-ctx.Done():
			return -1, ctx.Err()
		}
	}
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
	for range 2 {
		select {
		case <-entered:
		case <-time.After(testTimeout):
			t.Fatalf("the scripts do not run at the same time: %v", task.Calls())
		}
	}
	close(both)
	ev.wait(t, "both done", func(e Event) bool { return e.Kind == KindChangeDone && ev.count(kind(KindChangeDone)) == 2 })
}

func TestScriptTimeout(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, data("local/a.conf", `{{ file "local/in" }}`,
		script("./hang", func(s *template.ChangeScript) { s.Timeout = 20 * time.Millisecond })))
	task := newFakeTask(true)
	sawDeadline := make(chan bool, 1)
	task.execFn = func(ctx context.Context, _ *template.ChangeScript) (int, error) {
		_, ok := ctx.Deadline()
		sawDeadline <- ok
		<-ctx.Done() // a script that never ends by itself
		return -1, ctx.Err()
	}
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
	e := ev.wait(t, "change-failed", kind(KindChangeFailed))
	if e.Message != "change script ./hang for local/a.conf timed out after 20ms" {
		t.Errorf("message %q", e.Message)
	}
	if !<-sawDeadline {
		t.Error("the script's context has no deadline")
	}
	if r.Err() != nil || errors.Is(r.Err(), context.DeadlineExceeded) {
		t.Errorf("runner failed: %v", r.Err())
	}
}
