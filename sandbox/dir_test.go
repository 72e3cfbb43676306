package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCreateLayout(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "task")
	d, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got := map[string]os.FileMode{}
	for _, sub := range Layout {
		fi, err := os.Stat(filepath.Join(path, sub.Name))
		if err != nil {
			t.Fatal(err)
		}
		got[sub.Name] = fi.Mode().Perm()
	}
	want := map[string]os.FileMode{"alloc": 0o755, "local": 0o755, "secrets": 0o700, "tmp": 0o755}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}
}

func TestCreateTightensSecrets(t *testing.T) {
	t.Parallel()
	path := t.TempDir()
	if err := os.Mkdir(filepath.Join(path, "secrets"), 0o777); err != nil {
		t.Fatal(err)
	}
	d, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fi, err := os.Stat(filepath.Join(path, "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("secrets mode = %v, want 0700", fi.Mode().Perm())
	}
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	d, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	changed, err := d.WriteFile("local/deep/app.conf", []byte("a=1\n"), Perm(0o640))
	if err != nil || !changed {
		t.Fatalf("first write: changed=%v err=%v", changed, err)
	}
	fi, err := os.Stat(filepath.Join(d.Path(), "local/deep/app.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
	}

	changed, err = d.WriteFile("local/deep/app.conf", []byte("a=1\n"), Perm(0o640))
	if err != nil || changed {
		t.Errorf("identical write: changed=%v err=%v, want false, nil", changed, err)
	}
	changed, err = d.WriteFile("local/deep/app.conf", []byte("a=1\n"), Perm(0o600))
	if err != nil || changed {
		t.Errorf("mode-only change: changed=%v err=%v, want false (same content), nil", changed, err)
	}
	if fi, err := os.Stat(filepath.Join(d.Path(), "local/deep/app.conf")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode-only change not applied: %v %v", fi.Mode(), err)
	}
	changed, err = d.WriteFile("local/deep/app.conf", []byte("a=2\n"), Perm(0o600))
	if err != nil || !changed {
		t.Errorf("content change: changed=%v err=%v, want true, nil", changed, err)
	}
	got, err := d.ReadFile("local/deep/app.conf")
	if err != nil || string(got) != "a=2\n" {
		t.Errorf("read back %q, %v", got, err)
	}
	entries, err := os.ReadDir(filepath.Join(d.Path(), "local/deep"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestWriteFileDoesNotFollowPlantedSymlink(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := os.Symlink(outside, filepath.Join(d.Path(), "local/app.conf")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WriteFile("local/app.conf", []byte("rendered")); err != nil {
		t.Fatalf("write over symlink: %v", err)
	}
	victim, _ := os.ReadFile(outside)
	if string(victim) != "precious" {
		t.Errorf("write followed the symlink: victim now %q", victim)
	}
	fi, err := os.Lstat(filepath.Join(d.Path(), "local/app.conf"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Errorf("destination is not a regular file after write: %v %v", fi, err)
	}
}

func TestWriteFileRefusesEscapes(t *testing.T) {
	t.Parallel()
	outsideDir := t.TempDir()
	d, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A directory symlink planted inside the task dir, pointing outside.
	if err := os.Symlink(outsideDir, filepath.Join(d.Path(), "local/out")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../escape", "/etc/passwd-tmplrun", "local/out/file"} {
		if _, err := d.WriteFile(name, []byte("x")); err == nil {
			t.Errorf("WriteFile(%q) succeeded, want an error", name)
		}
		if _, err := d.ReadFile(name); err == nil {
			t.Errorf("ReadFile(%q) succeeded, want an error", name)
		}
	}
	entries, _ := os.ReadDir(outsideDir)
	if len(entries) != 0 {
		t.Errorf("files written outside the task dir: %v", entries)
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	d, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Remove("local/missing"); err != nil {
		t.Errorf("removing a missing file: %v", err)
	}
	if _, err := d.WriteFile("local/x", nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove("local/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.Path(), "local/x")); !os.IsNotExist(err) {
		t.Errorf("file still there: %v", err)
	}
}

// TestWriteFilePutsBackModeAndOwnerSilently: someone chmods or chowns a
// rendered file; the next write of the same content puts them back and
// reports no change (a change would fire the template's change_mode).
func TestWriteFilePutsBackModeAndOwnerSilently(t *testing.T) {
	t.Parallel()
	d, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	path := filepath.Join(d.Path(), "secrets/app.env")
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		uid, gid = 4321, 4321
	}
	opts := []Option{Perm(0o640), Owner(uid, gid)}
	if _, err := d.WriteFile("secrets/app.env", []byte("A=1\n"), opts...); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		if err := os.Chown(path, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	changed, err := d.WriteFile("secrets/app.env", []byte("A=1\n"), opts...)
	if err != nil || changed {
		t.Fatalf("rewrite: changed=%v err=%v, want false, nil", changed, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640 back", fi.Mode().Perm())
	}
	if uid >= 0 && !ownerMatches(fi, uid, gid) {
		t.Errorf("owner not put back: %+v", fi.Sys())
	}
}

// TestWriteFileOwner sets uid and gid (root only).
func TestWriteFileOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	d, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.WriteFile("local/a", []byte("x"), Owner(1234, 5678)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(d.Path(), "local/a"))
	if err != nil {
		t.Fatal(err)
	}
	if !ownerMatches(fi, 1234, 5678) || ownerMatches(fi, 0, -1) {
		t.Errorf("owner: %+v", fi.Sys())
	}
	// Unset (-1) keeps the process's own.
	if _, err := d.WriteFile("local/b", []byte("x"), Owner(-1, 5678)); err != nil {
		t.Fatal(err)
	}
	fi, err = os.Stat(filepath.Join(d.Path(), "local/b"))
	if err != nil || !ownerMatches(fi, 0, 5678) {
		t.Errorf("uid -1: %+v %v", fi.Sys(), err)
	}
}

func TestIsTemp(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		".app.conf.tmp-0123456789ab":  true,
		".x.tmp-abcdefabcdef":         true,
		"app.conf.tmp-0123456789ab":   false, // not hidden
		".app.conf.tmp-0123456789":    false, // short
		".app.conf.tmp-0123456789AB":  false, // not ours: upper case
		".app.conf.tmp-0123456789abc": false,
		".tmp-0123456789ab":           false, // no name
		".app.conf":                   false,
		"":                            false,
	} {
		if got := isTemp(name); got != want {
			t.Errorf("isTemp(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRemoveStaleTemps(t *testing.T) {
	t.Parallel()
	d, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Now()
	old := now.Add(-2 * time.Minute)
	files := map[string]time.Time{
		"local/.a.conf.tmp-0123456789ab":    old, // interrupted: removed
		"local/.b.conf.tmp-0123456789ab":    now, // in progress: kept
		"local/a.conf":                      old,
		"local/.a.conf.tmp-nothex":          old, // not ours
		"secrets/.app.env.tmp-abcdef012345": old,
		"tmp/.x.tmp-abcdef012345":           old, // not asked for
	}
	for name, mtime := range files {
		p := filepath.Join(d.Path(), name)
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := d.RemoveStaleTemps([]string{"local", "secrets", "missing"}, now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"local/.a.conf.tmp-0123456789ab", "secrets/.app.env.tmp-abcdef012345"}
	slices.Sort(removed)
	if diff := cmp.Diff(want, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	for name := range files {
		_, err := os.Stat(filepath.Join(d.Path(), name))
		if gone := os.IsNotExist(err); gone != slices.Contains(want, name) {
			t.Errorf("%s: gone=%v", name, gone)
		}
	}
}

// BenchmarkRemoveStaleTemps looks for stale temporary files in a directory
// of 2,000 rendered files (none stale: the common case).
func BenchmarkRemoveStaleTemps(b *testing.B) {
	d, err := Create(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for i := range 2000 {
		if err := os.WriteFile(filepath.Join(d.Path(), "local", fmt.Sprintf("f%04d.conf", i)), []byte("v"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	cutoff := time.Now().Add(-time.Minute)
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.RemoveStaleTemps([]string{"local"}, cutoff); err != nil {
			b.Fatal(err)
		}
	}
}
