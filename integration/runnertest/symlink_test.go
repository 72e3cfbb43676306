package runnertest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tmplrun/tmplrun/template"
)

func TestSymlinkPlantedAtDestinationIsNotFollowed(t *testing.T) {
	v := startVault(t)
	v.WriteKV("web", map[string]any{"password": "first"})
	cfg := config(t, v, taskToken(v),
		tmpl("secrets/app.conf", `{{ with secret "secret/data/web" }}{{ .Data.data.password }}{{ end }}`, template.ChangeModeNoop))
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	waitFirst(t, r)

	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(cfg.Dir, "secrets/app.conf")
	if err := os.Remove(dest); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, dest); err != nil {
		t.Fatal(err)
	}
	v.WriteKV("web", map[string]any{"password": "second"})
	ev.wait(t, "re-render", ev.nthRendered("secrets/app.conf", 2))
	if got := readFile(t, victim); got != "precious" {
		t.Errorf("the write followed the symlink: victim = %q", got)
	}
	fi, err := os.Lstat(dest)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("destination is not a regular file: %v %v", fi, err)
	}
	if got := readFile(t, dest); got != "second" {
		t.Errorf("destination = %q", got)
	}
	r.Stop()
	requireNoGoroutinesLeft(t)
}
