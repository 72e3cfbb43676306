package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/template"
)

func TestFirstRenderWritesFilesAndReturnsEnv(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/app.conf", "mode={{ env \"APP_MODE\" }}\n", func(t *template.Template) { t.Perms = 0o640 }),
		data("secrets/app.env", "# env\nexport DB_USER=\"app\"\nDB_PORT=5432 # default\nMODE={{ env \"APP_MODE\" }}\n",
			func(t *template.Template) { t.Env = true }),
	)
	cfg.Env = map[string]string{"APP_MODE": "prod"}
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	env := waitFirst(t, r)

	if diff := cmp.Diff(map[string]string{"DB_USER": "app", "DB_PORT": "5432", "MODE": "prod"}, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if got := readFile(t, filepath.Join(cfg.Dir, "local/app.conf")); got != "mode=prod\n" {
		t.Errorf("app.conf = %q", got)
	}
	fi, err := os.Stat(filepath.Join(cfg.Dir, "local/app.conf"))
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("app.conf mode = %v, %v; want 0640", fi.Mode().Perm(), err)
	}
	ev.wait(t, "first-render", kind(KindFirstRender))
	st := r.Status()
	if st.FirstRender.IsZero() || len(st.Templates) != 2 || st.Templates[0].LastRender.IsZero() || st.Templates[0].Renders != 1 {
		t.Errorf("status after first render: %+v", st)
	}
}

func TestTemplatesSeeOnlyTheTaskEnvironment(t *testing.T) {
	// Not parallel: it sets the process environment.
	t.Setenv("VAULT_TOKEN", "hvs.tmplrun-own-token")
	t.Setenv("TMPLRUN_ONLY", "process")
	cfg := testConfig(t, data("local/env.txt",
		`[{{ env "VAULT_TOKEN" }}][{{ envOrDefault "TMPLRUN_ONLY" "default" }}][{{ env "APP" }}]`))
	cfg.Env = map[string]string{"APP": "task"}
	r := start(t, cfg)
	waitFirst(t, r)
	if got, want := readFile(t, filepath.Join(cfg.Dir, "local/env.txt")), "[][default][task]"; got != want {
		t.Errorf("rendered %q, want %q", got, want)
	}
}

func TestBadTemplateDoesNotStopTheOthers(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/bad.conf", `port={{ file "local/port" | trimSpace | toUpper | parseInt }}`),
		data("local/good.conf", `{{ file "local/good.in" }}`),
	)
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/port"), "hunter2\n")
	writeFile(t, filepath.Join(cfg.Dir, "local/good.in"), "fine")
	r := start(t, cfg)

	e := ev.wait(t, "render error", kindFor(KindRenderError, "local/bad.conf"))
	ev.wait(t, "good rendered", kindFor(KindRendered, "local/good.conf"))
	if strings.Contains(strings.ToLower(e.Message), "hunter2") || !strings.Contains(e.Message, "parseInt") {
		t.Errorf("error message %q: want parseInt named and the value redacted", e.Message)
	}
	st := r.Status()
	if st.Templates[0].LastError == "" || strings.Contains(strings.ToLower(st.Templates[0].LastError), "hunter2") {
		t.Errorf("status error %q", st.Templates[0].LastError)
	}
	if got := readFile(t, filepath.Join(cfg.Dir, "local/good.conf")); got != "fine" {
		t.Errorf("good.conf = %q", got)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, "local/bad.conf")); !os.IsNotExist(err) {
		t.Errorf("bad.conf written: %v", err)
	}
	// The data gets fixed: the bad template renders and the first render
	// completes.
	writeFile(t, filepath.Join(cfg.Dir, "local/port"), "8080")
	waitFirst(t, r)
	if got := readFile(t, filepath.Join(cfg.Dir, "local/bad.conf")); got != "port=8080" {
		t.Errorf("bad.conf = %q", got)
	}
	if st := r.Status(); st.Templates[0].LastError != "" {
		t.Errorf("error not cleared: %q", st.Templates[0].LastError)
	}
}

func TestRestoreFiresOnlyForChangedFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		running bool
		want    []string
	}{
		{"the task runs: changed files fire their change mode", true, []string{"signal SIGHUP"}},
		{"the task is not running yet: nothing fires", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t,
				data("local/same.conf", "unchanged", mode(template.ChangeModeSignal), func(t *template.Template) { t.ChangeSignal = "SIGUSR1" }),
				data("local/new.conf", "new credentials", mode(template.ChangeModeSignal)),
			)
			writeFile(t, filepath.Join(cfg.Dir, "local/same.conf"), "unchanged")
			writeFile(t, filepath.Join(cfg.Dir, "local/new.conf"), "old credentials")
			task := newFakeTask(tc.running)
			cfg.Lifecycle = task
			ev := newEvents()
			cfg.Events = ev
			r := start(t, cfg)
			waitFirst(t, r)
			if tc.running {
				task.waitCalls(t, 1)
			} else {
				// The first-render batch is decided before this event.
				ev.wait(t, "first render", kind(KindFirstRender))
			}
			if diff := cmp.Diff(tc.want, task.Calls()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if n := ev.count(kindFor(KindRendered, "local/same.conf")); n != 0 {
				t.Errorf("unchanged file reported rendered %d times", n)
			}
		})
	}
}

func TestSymlinkPlantedAtDestinationIsNotFollowed(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, data("local/app.conf", `{{ file "local/in" }}`))
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "v1")
	victim := filepath.Join(t.TempDir(), "victim")
	writeFile(t, victim, "precious")
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	waitFirst(t, r)

	dest := filepath.Join(cfg.Dir, "local/app.conf")
	if err := os.Remove(dest); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, dest); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "v2-longer")
	ev.wait(t, "re-render", ev.nth(KindRendered, "local/app.conf", 2))
	if got := readFile(t, victim); got != "precious" {
		t.Errorf("the write followed the symlink: victim = %q", got)
	}
	fi, err := os.Lstat(dest)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("destination is not a regular file: %v %v", fi, err)
	}
	if got := readFile(t, dest); got != "v2-longer" {
		t.Errorf("destination = %q", got)
	}
}

func TestFileFunctionIsConfinedToTheTaskDir(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "outside.txt")
	writeFile(t, outside, "not yours")
	cfg := testConfig(t,
		data("local/escape.conf", `{{ file "../outside.txt" }}`),
		data("local/abs.conf", `{{ file "`+outside+`" }}`),
		data("local/ok.conf", "ok"),
	)
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	e1 := ev.wait(t, "escape refused", kindFor(KindRenderError, "local/escape.conf"))
	e2 := ev.wait(t, "absolute refused", kindFor(KindRenderError, "local/abs.conf"))
	for _, e := range []Event{e1, e2} {
		if !strings.Contains(e.Message, "outside the task dir") {
			t.Errorf("message %q", e.Message)
		}
	}
	_ = r
}

func TestMissingDependencyIsReportedAndTimesOut(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, data("local/a.conf", `{{ file "local/not-there" }}`), data("local/b.conf", "b"))
	cfg.TemplateConfig.FirstRenderTimeout = 300 * time.Millisecond
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	e := ev.wait(t, "missing", kind(KindMissing))
	if diff := cmp.Diff([]string{"file(local/not-there)"}, e.Missing); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
	if e.Message != "missing file(local/not-there) — waiting" {
		t.Errorf("message %q", e.Message)
	}
	if got := r.Status().Templates[0].Missing; !cmp.Equal(got, []string{"file(local/not-there)"}) {
		t.Errorf("status missing %v", got)
	}
	_, err := r.WaitFirstRender(context.Background())
	if !errors.Is(err, ErrFirstRenderTimeout) || !strings.Contains(err.Error(), "local/a.conf waits for file(local/not-there)") {
		t.Errorf("WaitFirstRender: %v", err)
	}
	<-r.Done()
	if !errors.Is(r.Err(), ErrFirstRenderTimeout) {
		t.Errorf("Err = %v", r.Err())
	}
	ev.wait(t, "fatal", kind(KindFatal))
}

func TestRenderOnce(t *testing.T) {
	t.Parallel()
	t.Run("dry run hands the contents over and writes nothing", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t, data("local/a.conf", "a={{ env \"X\" }}"), data("secrets/b.env", "B=1", func(t *template.Template) { t.Env = true }))
		cfg.Env = map[string]string{"X": "1"}
		got := map[string]string{}
		cfg.DryRun = func(dest string, b []byte) { got[dest] = string(b) }
		if err := Render(context.Background(), cfg); err != nil {
			t.Fatalf("Render: %v", err)
		}
		if diff := cmp.Diff(map[string]string{"local/a.conf": "a=1", "secrets/b.env": "B=1"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if _, err := os.Stat(filepath.Join(cfg.Dir, "local/a.conf")); !os.IsNotExist(err) {
			t.Errorf("dry run wrote a file: %v", err)
		}
	})
	t.Run("dry run over a missing task dir creates nothing", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t, data("local/a.conf", "a"))
		cfg.Dir = filepath.Join(t.TempDir(), "not-yet")
		got := map[string]string{}
		cfg.DryRun = func(dest string, b []byte) { got[dest] = string(b) }
		if err := Render(context.Background(), cfg); err != nil {
			t.Fatalf("Render: %v", err)
		}
		if got["local/a.conf"] != "a" {
			t.Errorf("rendered %v", got)
		}
		if _, err := os.Stat(cfg.Dir); !os.IsNotExist(err) {
			t.Errorf("dry run created the task dir: %v", err)
		}
	})
	t.Run("failures are named by template", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t, data("local/bad.conf", `{{ "x" | parseInt }}`), data("local/ok.conf", "ok"))
		err := Render(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), "template local/bad.conf: execute:") {
			t.Errorf("Render: %v", err)
		}
		if got := readFile(t, filepath.Join(cfg.Dir, "local/ok.conf")); got != "ok" {
			t.Errorf("ok.conf = %q", got)
		}
	})
	t.Run("a missing dependency with a timeout", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t, data("local/a.conf", `{{ file "local/nope" }}`))
		cfg.TemplateConfig.FirstRenderTimeout = 100 * time.Millisecond
		err := Render(context.Background(), cfg)
		if !errors.Is(err, ErrFirstRenderTimeout) || !strings.Contains(err.Error(), "file(local/nope)") {
			t.Errorf("Render: %v", err)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t, data("local/a.conf", `{{ file "local/nope" }}`))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := Render(ctx, cfg)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Render: %v", err)
		}
	})
}

func TestDeniedFunctions(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/plugin.conf", `{{ plugin "/bin/true" }}`),
		data("local/consul.conf", `{{ key "app/config" }}`),
		data("local/vault.conf", `{{ with secret "secret/data/x" }}{{ end }}`),
	)
	ev := newEvents()
	cfg.Events = ev
	start(t, cfg)
	for _, dest := range []string{"local/plugin.conf", "local/consul.conf", "local/vault.conf"} {
		e := ev.wait(t, dest+" denied", kindFor(KindRenderError, dest))
		if !strings.Contains(e.Message, "function is disabled") {
			t.Errorf("%s: %q", dest, e.Message)
		}
	}
}

// A function_denylist of its own: exact names — the runner's own
// functions (env) included — and glob patterns.
func TestDenylistNamesAndPatterns(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/env.conf", `{{ env "HOME" }}`),
		data("local/sprig.conf", `{{ "a" | sprig_upper }}`),
		data("local/allowed.conf", `{{ "a" | toUpper }}`),
	)
	cfg.TemplateConfig.FunctionDenylist = []string{"env", "sprig_up*"}
	ev := newEvents()
	cfg.Events = ev
	start(t, cfg)
	for _, dest := range []string{"local/env.conf", "local/sprig.conf"} {
		e := ev.wait(t, dest+" denied", kindFor(KindRenderError, dest))
		if !strings.Contains(e.Message, "function is disabled") {
			t.Errorf("%s: %q", dest, e.Message)
		}
	}
	ev.wait(t, "allowed.conf rendered", kindFor(KindRendered, "local/allowed.conf"))
	if got := readFile(t, filepath.Join(cfg.Dir, "local/allowed.conf")); got != "A" {
		t.Errorf("allowed.conf = %q", got)
	}
}

func TestStopIsIdempotentAndNew(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, data("local/a.conf", "a"))
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Stop()
	r.Stop()
	if err := r.Start(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Stop: %v", err)
	}
	if _, err := r.WaitFirstRender(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("WaitFirstRender after Stop: %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no dir", Config{Task: "x"}, "task dir is empty"},
		{"escaping destination", Config{Dir: t.TempDir(), Templates: []*template.Template{data("../x", "a")}}, "not a clean path"},
		{"duplicate destination", Config{Dir: t.TempDir(), Templates: []*template.Template{data("a", "a"), data("a", "b")}}, "used twice"},
		{"vault without an address", Config{Dir: t.TempDir(), VaultCluster: &template.VaultCluster{}}, "vault address is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNewFillsDefaultsWithoutTouchingTheConfig(t *testing.T) {
	t.Parallel()
	bare := template.NewTemplate()
	bare.Destination = "local/plugin.conf"
	bare.Data = `{{ plugin "/bin/true" }}`
	bare.ChangeMode = "" // unset
	tc := &template.TemplateConfig{
		VaultRetry: &template.Retry{}, // backoffs unset
		Wait:       &template.Wait{Min: dur(0), Max: dur(0)},
	}
	cfg := Config{Task: "t", Dir: filepath.Join(t.TempDir(), "t"), Templates: []*template.Template{bare},
		TemplateConfig: tc, Logger: testConfig(t).Logger}
	ev := newEvents()
	cfg.Events = ev
	start(t, cfg)
	// The default denylist applies although none was given.
	e := ev.wait(t, "plugin denied", kindFor(KindRenderError, "local/plugin.conf"))
	if !strings.Contains(e.Message, "function is disabled") {
		t.Errorf("message %q", e.Message)
	}
	if tc.FunctionDenylist != nil || tc.VaultRetry.Backoff != 0 || bare.ChangeMode != "" {
		t.Errorf("New modified the caller's config: %+v %+v %q", tc, tc.VaultRetry, bare.ChangeMode)
	}
}

// A restore whose first render takes several passes still fires for a
// file an early pass changed.
func TestRestoreFiresForChangesOfEveryFirstRenderPass(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/early.conf", "new credentials", mode(template.ChangeModeSignal)),
		data("local/late.conf", `{{ file "local/in" }}`, mode(template.ChangeModeSignal), func(t *template.Template) { t.ChangeSignal = "SIGUSR1" }),
	)
	writeFile(t, filepath.Join(cfg.Dir, "local/early.conf"), "old credentials")
	writeFile(t, filepath.Join(cfg.Dir, "local/late.conf"), "unchanged")
	task := newFakeTask(true)
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	// early.conf renders in the first pass; late.conf waits for its input.
	ev.wait(t, "early.conf rendered", kindFor(KindRendered, "local/early.conf"))
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "unchanged")
	waitFirst(t, r)
	if diff := cmp.Diff([]string{"signal SIGHUP"}, task.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestNoTemplatesIsAFirstRenderAtOnce(t *testing.T) {
	t.Parallel()
	r := start(t, testConfig(t))
	if env := waitFirst(t, r); len(env) != 0 {
		t.Errorf("env %v", env)
	}
}
