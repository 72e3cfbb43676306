package sandbox

import (
	"os"
	"path/filepath"
	"testing"

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
	if err != nil || !changed {
		t.Errorf("mode-only change: changed=%v err=%v, want true, nil", changed, err)
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
