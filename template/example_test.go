package template_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tmplrun/tmplrun/template"
)

func ExampleParse() {
	src := []byte(`
vault {
  auth "token" {}
}

task "web" {
  vault {
    policies = ["web"]
  }

  template {
    data        = "greeting={{ with secret \"secret/data/web\" }}{{ .Data.data.greeting }}{{ end }}"
    destination = "${NOMAD_SECRETS_DIR}/app.env"
    env         = true
  }
}
`)
	cfg, err := template.Parse(filepath.Join(os.TempDir(), "tmplrun.hcl"), src, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	tmpl := cfg.Tasks[0].Templates[0]
	fmt.Println(tmpl.Destination, tmpl.ChangeMode, tmpl.Splay, tmpl.Perms)
	// Output: secrets/app.env restart 5s -rw-r--r--
}

func ExampleError() {
	src := []byte(`
task "web" {
  template {
    data        = "x"
    destination = "../escape"
    change_mode = "reboot"
  }
}
`)
	_, err := template.Parse("tmplrun.hcl", src, nil)
	var perr *template.Error
	if errors.As(err, &perr) {
		perr.Write(os.Stdout)
	}
	// Output:
	// tmplrun.hcl:5:5: error: task "web", template #1 (../escape): destination: path is outside the task dir: "../escape" climbs out of the task dir through ".."
	//     5 |     destination = "../escape"
	//       |     ^^^^^^^^^^^^^^^^^^^^^^^^^
	// tmplrun.hcl:6:5: error: task "web", template #1 (../escape): change_mode "reboot" is not one of noop, restart, signal, script
	//     6 |     change_mode = "reboot"
	//       |     ^^^^^^^^^^^^^^^^^^^^^^
}

func ExampleNewTemplate() {
	t := template.NewTemplate()
	t.Data = "{{ env \"A\" }}"
	t.Destination = "local/a"
	t.Splay = 0 // written as zero, stays zero
	task := template.NewTask("web")
	task.Dir = os.TempDir()
	task.Templates = append(task.Templates, t)
	cfg := &template.Config{Tasks: []*template.Task{task}}
	cfg.Canonicalize()
	fmt.Println(cfg.Validate(), t.ChangeMode, t.Splay)
	// Output: <nil> restart 0s
}
