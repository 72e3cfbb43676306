package runner

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tmplrun/tmplrun/template"
)

// With disable_file_sandbox, a template's source and its file function may
// read outside the task dir; without it, neither can.
func TestDisableFileSandbox(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "app.tpl"), `from-source {{ file "`+filepath.Join(outside, "data.txt")+`" }}`)
	writeFile(t, filepath.Join(outside, "data.txt"), "outside-data")
	tmpl := func() *template.Template {
		tm := template.NewTemplate()
		tm.Source = filepath.Join(outside, "app.tpl")
		tm.Destination = "local/app.conf"
		tm.Splay = 0
		tm.Canonicalize()
		return tm
	}

	t.Run("disabled: reads anywhere", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t, tmpl())
		cfg.TemplateConfig.DisableFileSandbox = true
		r := start(t, cfg)
		waitFirst(t, r)
		if got := readFile(t, filepath.Join(cfg.Dir, "local/app.conf")); got != "from-source outside-data" {
			t.Errorf("rendered %q", got)
		}
	})
	t.Run("enabled: the source outside cannot be read", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t, tmpl())
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), "app.tpl") {
			t.Errorf("New = %v, want an error about the source", err)
		}
	})
	t.Run("enabled: file() outside cannot be read", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t, data("local/a.conf", `{{ file "`+filepath.Join(outside, "data.txt")+`" }}`))
		err := Render(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), "outside the task dir") {
			t.Errorf("Render = %v, want the file function refused", err)
		}
	})
}
