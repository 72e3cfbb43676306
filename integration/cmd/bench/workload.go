package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// workload is what a scenario renders: tasks × templates over secrets.
// Template j of task i reads secret (i·templates + j) mod secrets, so
// every secret is read by several templates (and, with more than one
// task, by several tasks).
type workload struct {
	name      string // KV prefix: secret/data/bench/<name>/…
	tasks     int
	templates int // per task
	secrets   int
}

func (w workload) secretOf(task, tmpl int) int { return (task*w.templates + tmpl) % w.secrets }

// kvPath is secret i's path under the KV v2 mount (for WriteKV).
func (w workload) kvPath(i int) string { return fmt.Sprintf("bench/%s/s%04d", w.name, i) }

// apiPath is secret i's API path, as templates read it.
func (w workload) apiPath(i int) string { return "secret/data/" + w.kvPath(i) }

// taskDir and destination lay the files out the same way for both
// systems: <root>/t0000/local/f000.conf.
func taskName(i int) string { return fmt.Sprintf("t%04d", i) }

func destination(j int) string { return fmt.Sprintf("local/f%03d.conf", j) }

func (w workload) file(root string, task, tmpl int) string {
	return filepath.Join(root, taskName(task), destination(tmpl))
}

// text is a template's text: a header naming the file, and three fields
// of its secret. Every template's text differs, as in real deployments:
// consul-template renders identical templates once, which would spare
// it most of the work with 500 templates over 50 secrets.
func (w workload) text(task, tmpl int) string {
	return fmt.Sprintf(`# %s/%s
{{ with secret %q }}value={{ .Data.data.value }}
user={{ .Data.data.user }}
pad={{ .Data.data.pad }}
{{ end }}`, taskName(task), destination(tmpl), w.apiPath(w.secretOf(task, tmpl)))
}

// value is secret i's value field in generation gen.
func (w workload) value(i int, gen string) string { return fmt.Sprintf("%s-%s-%04d", w.name, gen, i) }

// seed writes every secret in generation gen.
func (w workload) seed(v *vaulttest.Vault, gen string) {
	for i := 0; i < w.secrets; i++ {
		w.write(v, i, gen)
	}
}

func (w workload) write(v *vaulttest.Vault, i int, gen string) {
	v.WriteKV(w.kvPath(i), map[string]any{
		"value": w.value(i, gen),
		"user":  fmt.Sprintf("svc-%04d", i),
		"pad":   strings.Repeat("x", 64),
	})
}

// want is a file and the line it must hold.
type want struct {
	path string
	line []byte
}

// wants are every file of the workload under root, holding generation
// gen.
func (w workload) wants(root, gen string) []want {
	var out []want
	for i := 0; i < w.tasks; i++ {
		for j := 0; j < w.templates; j++ {
			out = append(out, want{
				path: w.file(root, i, j),
				line: []byte("value=" + w.value(w.secretOf(i, j), gen) + "\n"),
			})
		}
	}
	return out
}

// check returns the wants not met yet.
func check(ws []want) []want {
	var pending []want
	for _, x := range ws {
		if b, err := os.ReadFile(x.path); err != nil || !bytes.Contains(b, x.line) {
			pending = append(pending, x)
		}
	}
	return pending
}

// waitFiles polls until every file holds its line, and returns when that
// was first seen. It fails when one of procs exits or timeout passes.
func waitFiles(ws []want, every, timeout time.Duration, procs ...*proc) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	pending := ws
	for {
		pending = check(pending)
		now := time.Now()
		if len(pending) == 0 {
			return now, nil
		}
		for _, p := range procs {
			if p.exited() {
				return now, fmt.Errorf("%s exited while %d files were not rendered (first: %s)\n%s",
					p.name, len(pending), pending[0].path, p.output.tail(4000))
			}
		}
		if now.After(deadline) {
			return now, fmt.Errorf("%d files not rendered after %s (first: %s)", len(pending), timeout, pending[0].path)
		}
		time.Sleep(every)
	}
}
