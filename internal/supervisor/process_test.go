package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The test binary doubles as the supervised process: with HELPER_MODE set
// it behaves as the mode says instead of running tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("HELPER_MODE"); mode != "" {
		helper(mode)
		return
	}
	goleak.VerifyTestMain(m)
}

// helper is the supervised program. It records what it sees in
// $HELPER_OUT: its pid and env at start, every signal it receives.
func helper(mode string) {
	out := os.Getenv("HELPER_OUT")
	record := func(line string) {
		f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	record(fmt.Sprintf("start pid=%d value=%s", os.Getpid(), os.Getenv("VALUE")))
	switch mode {
	case "exit3":
		os.Exit(3)
	case "kill-self":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "child":
		cmd := exec.Command("/bin/sleep", "300")
		_ = cmd.Start()
		record(fmt.Sprintf("child=%d", cmd.Process.Pid))
	}
	for sig := range sigs {
		record("signal " + sig.String())
		if sig == syscall.SIGTERM && mode != "ignore-term" {
			os.Exit(0)
		}
	}
}

// events collects supervisor events for a test.
type events struct {
	mu  sync.Mutex
	evs []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

func (e *events) kinds() []EventKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []EventKind
	for _, ev := range e.evs {
		out = append(out, ev.Kind)
	}
	return out
}

func (e *events) last(kind EventKind) (Event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.evs) - 1; i >= 0; i-- {
		if e.evs[i].Kind == kind {
			return e.evs[i], true
		}
	}
	return Event{}, false
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readOut(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

type fixture struct {
	p    *Process
	ev   *events
	out  string
	stop func()
}

func start(t *testing.T, mode string, value *string, killTimeout time.Duration) *fixture {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	ev := &events{}
	var mu sync.Mutex
	p := New(Config{
		Name:    "test",
		Command: os.Args[0],
		Dir:     dir,
		Env: func() []string {
			mu.Lock()
			defer mu.Unlock()
			return []string{"HELPER_MODE=" + mode, "HELPER_OUT=" + out, "VALUE=" + *value}
		},
		KillSignal:  syscall.SIGTERM,
		KillTimeout: killTimeout,
		Events:      ev.add,
	})
	ctx, cancel := context.WithCancel(context.Background())
	go p.Run(ctx)
	f := &fixture{p: p, ev: ev, out: out, stop: func() {
		_ = p.Stop(context.Background())
		cancel()
	}}
	t.Cleanup(f.stop)
	eventually(t, "the process to record its start", func() bool { return strings.Contains(readOut(out), "start pid=") })
	return f
}

func TestStartStopGraceful(t *testing.T) {
	t.Parallel()
	v := "one"
	f := start(t, "normal", &v, 5*time.Second)
	if !f.p.IsRunning() || f.p.PID() == 0 {
		t.Fatal("not running after start")
	}
	if !strings.Contains(readOut(f.out), fmt.Sprintf("start pid=%d value=one", f.p.PID())) {
		t.Errorf("process saw a different pid or env: %q", readOut(f.out))
	}
	if err := f.p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev, ok := f.ev.last(Stopped)
	if !ok || ev.Killed || ev.ExitCode != 0 {
		t.Errorf("stopped event = %+v, want a graceful exit 0", ev)
	}
	if f.p.IsRunning() {
		t.Error("still running after Stop")
	}
	if !strings.Contains(readOut(f.out), "signal terminated") {
		t.Errorf("process did not get SIGTERM: %q", readOut(f.out))
	}
}

func TestStopKillsAfterTimeout(t *testing.T) {
	t.Parallel()
	v := ""
	f := start(t, "ignore-term", &v, 200*time.Millisecond)
	if err := f.p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev, ok := f.ev.last(Stopped)
	if !ok || !ev.Killed || ev.Signal != "SIGKILL" {
		t.Errorf("stopped event = %+v, want killed by SIGKILL (named as users write it)", ev)
	}
}

func TestStopKillsTheProcessGroup(t *testing.T) {
	t.Parallel()
	v := ""
	f := start(t, "child", &v, 5*time.Second)
	eventually(t, "the child to start", func() bool { return strings.Contains(readOut(f.out), "child=") })
	var child int
	for _, line := range strings.Split(readOut(f.out), "\n") {
		if strings.HasPrefix(line, "child=") {
			fmt.Sscanf(line, "child=%d", &child)
		}
	}
	if err := f.p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the child to be gone", func() bool {
		// Reaped by init or a zombie of the exited helper: either way
		// signal 0 fails or /proc shows it dead.
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		return err != nil || strings.Contains(string(b), ") Z ")
	})
}

func TestSignal(t *testing.T) {
	t.Parallel()
	v := ""
	f := start(t, "normal", &v, 5*time.Second)
	if err := f.p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "SIGHUP to arrive", func() bool { return strings.Contains(readOut(f.out), "signal hangup") })
	f.stop()
	if err := f.p.Signal(syscall.SIGHUP); !errors.Is(err, ErrNotRunning) {
		t.Errorf("signal after stop: %v, want ErrNotRunning", err)
	}
}

func TestRestartUsesFreshEnv(t *testing.T) {
	t.Parallel()
	v := "before"
	f := start(t, "normal", &v, 5*time.Second)
	first := f.p.PID()
	v = "after"
	if err := f.p.Restart(context.Background(), "template changed"); err != nil {
		t.Fatal(err)
	}
	if f.p.PID() == first || !f.p.IsRunning() {
		t.Errorf("pid %d → %d, running %v: want a new running process", first, f.p.PID(), f.p.IsRunning())
	}
	eventually(t, "the new process to start", func() bool { return strings.Contains(readOut(f.out), "value=after") })
	want := []EventKind{Started, Restarting, Stopped, Started}
	if got := f.ev.kinds(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	if ev, _ := f.ev.last(Restarting); ev.Reason != "template changed" {
		t.Errorf("restart reason = %q", ev.Reason)
	}
}

func TestExitOnItsOwnIsRestarted(t *testing.T) {
	t.Parallel()
	v := ""
	f := start(t, "exit3", &v, time.Second)
	eventually(t, "the exit to be reported", func() bool { _, ok := f.ev.last(Exited); return ok })
	ev, _ := f.ev.last(Exited)
	if ev.ExitCode != 3 || ev.Delay != minBackoff {
		t.Errorf("exit event = %+v, want code 3 and delay %s", ev, minBackoff)
	}
	eventually(t, "a second start", func() bool { return strings.Count(readOut(f.out), "start pid=") >= 2 })
}

func TestExitBySignalNamesTheSignal(t *testing.T) {
	t.Parallel()
	v := ""
	f := start(t, "kill-self", &v, time.Second)
	eventually(t, "the exit to be reported", func() bool { _, ok := f.ev.last(Exited); return ok })
	if ev, _ := f.ev.last(Exited); ev.Signal != "SIGKILL" || ev.ExitCode != -1 {
		t.Errorf("exit event = %+v, want signal SIGKILL (as users write it), exit code -1", ev)
	}
}

func TestStartFailure(t *testing.T) {
	t.Parallel()
	ev := &events{}
	p := New(Config{Name: "x", Command: "/does/not/exist", Dir: t.TempDir(), Events: ev.add, KillTimeout: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	eventually(t, "the start failure", func() bool { _, ok := ev.last(StartFailed); return ok })
	if e, _ := ev.last(StartFailed); e.Err == nil || e.Delay != minBackoff {
		t.Errorf("start failure = %+v", e)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestStopWithoutRun(t *testing.T) {
	t.Parallel()
	p := New(Config{Command: "true"})
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Run: %v", err)
	}
}
