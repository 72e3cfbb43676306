package runner

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/template"
)

// TestModeChangedOnDiskIsPutBackSilently: a file whose content is right
// but whose mode someone changed gets its mode back at the next render,
// and that fires nothing: the content did not change.
func TestModeChangedOnDiskIsPutBackSilently(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/a.conf", "fixed", mode(template.ChangeModeSignal), func(t *template.Template) { t.Perms = 0o640 }),
		data("local/b.conf", `{{ file "local/in" }}`, mode(template.ChangeModeSignal), func(t *template.Template) { t.ChangeSignal = "SIGUSR1" }),
	)
	task := newFakeTask(false)
	cfg.Lifecycle = task
	ev := newEvents()
	cfg.Events = ev
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
	r := start(t, cfg)
	waitFirst(t, r)
	task.setRunning(true)
	path := filepath.Join(cfg.Dir, "local/a.conf")
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	// b's change makes a pass, which renders a again.
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "22")
	if diff := cmp.Diff([]string{"signal SIGUSR1"}, task.waitCalls(t, 1)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("a.conf mode not put back: %v %v", fi.Mode(), err)
	}
	if n := ev.count(kindFor(KindRendered, "local/a.conf")); n != 1 {
		t.Errorf("a.conf reported rendered %d times, want 1", n)
	}
}

func TestTemplateOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	uid, gid := 1234, 5678
	cfg := testConfig(t,
		data("secrets/app.env", "A=1\n", func(t *template.Template) { t.UID, t.GID, t.Perms = &uid, &gid, 0o600 }),
		data("local/mine.conf", "x"),
	)
	r := start(t, cfg)
	waitFirst(t, r)
	for _, c := range []struct {
		dest     string
		uid, gid uint32
		perm     os.FileMode
	}{{"secrets/app.env", 1234, 5678, 0o600}, {"local/mine.conf", 0, 0, 0o644}} {
		fi, err := os.Stat(filepath.Join(cfg.Dir, c.dest))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != c.uid || st.Gid != c.gid || fi.Mode().Perm() != c.perm {
			t.Errorf("%s: uid %d gid %d mode %v, want %d %d %v", c.dest, st.Uid, st.Gid, fi.Mode().Perm(), c.uid, c.gid, c.perm)
		}
	}
}

// TestDirectorySymlinkSwappedInIsNotFollowed: after the first render, the
// destination's directory is replaced by a symlink to a directory outside
// the task dir. The next write fails (an event) instead of landing there.
func TestDirectorySymlinkSwappedInIsNotFollowed(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t,
		data("local/sub/app.conf", `{{ file "local/in" }}`),
		data("local/other.conf", `{{ file "local/in" }}`),
	)
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "v1")
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	waitFirst(t, r)

	outside := t.TempDir()
	sub := filepath.Join(cfg.Dir, "local/sub")
	if err := os.Rename(sub, filepath.Join(cfg.Dir, "local/sub.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, sub); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "v2")
	e := ev.wait(t, "render error", kindFor(KindRenderError, "local/sub/app.conf"))
	if !strings.Contains(e.Message, "local/sub/app.conf") {
		t.Errorf("message %q", e.Message)
	}
	ev.wait(t, "the other template rendered", ev.nth(KindRendered, "local/other.conf", 2))
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written outside the task dir: %v", entries)
	}
	if got := readFile(t, filepath.Join(cfg.Dir, "local/other.conf")); got != "v2" {
		t.Errorf("other.conf = %q", got)
	}
}

func TestErrorOnMissingKey(t *testing.T) {
	t.Parallel()
	const text = `{{ $m := file "local/in.json" | parseJSON }}a={{ $m.a }} b={{ $m.b }}`
	onMissing := func(v bool) func(*template.Template) {
		return func(t *template.Template) { t.ErrorOnMissingKey = v }
	}
	cfg := testConfig(t,
		data("local/lax.conf", text, onMissing(false)),
		data("local/strict.conf", text, onMissing(true)),
	)
	writeFile(t, filepath.Join(cfg.Dir, "local/in.json"), `{"a": "1"}`)
	ev := newEvents()
	cfg.Events = ev
	start(t, cfg)
	e := ev.wait(t, "strict fails", kindFor(KindRenderError, "local/strict.conf"))
	if !strings.Contains(e.Message, `map has no entry for key "b"`) {
		t.Errorf("message %q", e.Message)
	}
	ev.wait(t, "lax renders", kindFor(KindRendered, "local/lax.conf"))
	if got := readFile(t, filepath.Join(cfg.Dir, "local/lax.conf")); got != "a=1 b=<no value>" {
		t.Errorf("lax.conf = %q", got)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, "local/strict.conf")); !os.IsNotExist(err) {
		t.Errorf("strict.conf written: %v", err)
	}
	// With the key there, the strict one renders and the first render is done.
	writeFile(t, filepath.Join(cfg.Dir, "local/in.json"), `{"a": "1", "b": "2"}`)
	ev.wait(t, "first render", kind(KindFirstRender))
	if got := readFile(t, filepath.Join(cfg.Dir, "local/strict.conf")); got != "a=1 b=2" {
		t.Errorf("strict.conf = %q", got)
	}
}

func TestCustomDelimiters(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, data("local/a.conf", `[[ file "local/in" ]] {{ left alone }}`, func(t *template.Template) {
		t.LeftDelimiter, t.RightDelimiter = "[[", "]]"
	}))
	writeFile(t, filepath.Join(cfg.Dir, "local/in"), "v1")
	r := start(t, cfg)
	waitFirst(t, r)
	if got := readFile(t, filepath.Join(cfg.Dir, "local/a.conf")); got != "v1 {{ left alone }}" {
		t.Errorf("a.conf = %q", got)
	}
}

// A token set before the first render completes is held for it: a task
// that starts after the first render (the CLI) starts with the new token
// and is never told; a task already running then (a restore) runs on the
// old token and gets the vault block's change_mode, once.
func TestSetTokenBeforeFirstRender(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		running bool
		want    []string
	}{
		{"the task starts after the first render", false, nil},
		{"a restore: the task runs on the old token", true, []string{"restart"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t, data("local/a.conf", `{{ file "local/in" }}`))
			cfg.Vault = vaultBlock("restart", "")
			cfg.Token = "hvs.first"
			task := newFakeTask(c.running)
			cfg.Lifecycle = task
			ev := newEvents()
			cfg.Events = ev
			r := start(t, cfg)
			ev.wait(t, "waiting for local/in", kind(KindMissing))
			r.SetToken("hvs.second")
			writeFile(t, filepath.Join(cfg.Dir, "local/in"), "1")
			waitFirst(t, r)
			if c.running {
				task.waitCalls(t, len(c.want))
			} else {
				// A change after the first render is planned after the
				// token's would have been: once it is reported, a token
				// action would be too.
				writeFile(t, filepath.Join(cfg.Dir, "local/in"), "2")
				ev.wait(t, "a.conf's change", func(e Event) bool { return e.Kind == KindChange && e.Template == "local/a.conf" })
			}
			if diff := cmp.Diff(c.want, task.Calls()); diff != "" {
				t.Errorf("lifecycle calls (-want +got):\n%s", diff)
			}
			want := len(c.want)
			if n := ev.count(func(e Event) bool { return e.Token }); n != want {
				t.Errorf("%d token events, want %d:\n%s", n, want, formatEvents(ev.list()))
			}
		})
	}
}

// TestStaleTempFilesRemovedOnOpen: temporary files of a write that was
// interrupted are removed when the runner opens the task dir; a fresh one
// (maybe another writer's, in progress) stays.
func TestStaleTempFilesRemovedOnOpen(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, data("local/a.conf", "a"), data("secrets/b.env", "B=1\n"))
	old := time.Now().Add(-2 * time.Minute)
	files := map[string]bool{ // removed?
		"local/.a.conf.tmp-0123456789ab":  true,
		"secrets/.b.env.tmp-abcdef012345": true,
		"local/.a.conf.tmp-fedcba987654":  false, // fresh
		"local/.other.tmp":                false, // not ours
		"tmp/.a.conf.tmp-0123456789ab":    false, // no template writes there
	}
	for name, stale := range files {
		p := filepath.Join(cfg.Dir, name)
		writeFile(t, p, "half")
		if stale || !strings.Contains(name, "fedcba") {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	for name, stale := range files {
		_, err := os.Stat(filepath.Join(cfg.Dir, name))
		if gone := os.IsNotExist(err); gone != stale {
			t.Errorf("%s: removed=%v, want %v", name, gone, stale)
		}
	}
}
