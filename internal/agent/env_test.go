package agent

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/template"
)

func TestTaskEnv(t *testing.T) {
	t.Parallel()
	task := template.NewTask("web")
	task.Dir = "/srv/web"
	task.Command = "${NOMAD_TASK_DIR}/bin/server"
	task.Args = []string{"-c", "${NOMAD_SECRETS_DIR}/app.env", "${NOMAD_ALLOC_ID}"}
	task.Env = map[string]string{"MODE": "prod", "CONF": "${NOMAD_TASK_DIR}/app.conf", "PATH": "/opt/bin"}
	e := newTaskEnv(task, []string{
		"PATH=/usr/bin", "HOME=/root", "LC_ALL=C", "VAULT_TOKEN=tmplruns-own", "AWS_SECRET_ACCESS_KEY=x", "BROKEN",
	})

	tmpl := e.forTemplates()
	want := map[string]string{
		"PATH": "/opt/bin", "HOME": "/root", "LC_ALL": "C", "MODE": "prod",
		"CONF":              "/srv/web/local/app.conf",
		"NOMAD_TASK_DIR":    "/srv/web/local",
		"NOMAD_SECRETS_DIR": "/srv/web/secrets",
		"NOMAD_ALLOC_DIR":   "/srv/web/alloc",
		"NOMAD_TASK_NAME":   "web",
		"TMPLRUN_TASK":      "web",
		"TMPLRUN_TASK_DIR":  "/srv/web",
		"TMPDIR":            "/srv/web/tmp",
	}
	if diff := cmp.Diff(want, tmpl); diff != "" {
		t.Errorf("template env (-want +got):\n%s", diff)
	}

	proc := e.forProcess(map[string]string{"MODE": "from-template", "DB_PASS": "p"}, map[string]string{"VAULT_TOKEN": "task-token"})
	has := map[string]bool{}
	for _, kv := range proc {
		has[kv] = true
	}
	for _, kv := range []string{"MODE=from-template", "DB_PASS=p", "VAULT_TOKEN=task-token", "PATH=/opt/bin"} {
		if !has[kv] {
			t.Errorf("process env lacks %s: %v", kv, proc)
		}
	}
	if has["VAULT_TOKEN=tmplruns-own"] || has["AWS_SECRET_ACCESS_KEY=x"] {
		t.Errorf("tmplrun's own environment leaked into the task: %v", proc)
	}

	cmd, args := e.command()
	if cmd != "/srv/web/local/bin/server" || !cmp.Equal(args, []string{"-c", "/srv/web/secrets/app.env", "${NOMAD_ALLOC_ID}"}) {
		t.Errorf("command = %q %q", cmd, args)
	}
}
