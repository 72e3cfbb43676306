package agent

import (
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/tmplrun/tmplrun/template"
)

// passThrough is what a task's process inherits from tmplrun's own
// environment: enough for programs to run (PATH, locale, home), nothing
// that could carry a credential. Everything else — tmplrun's VAULT_TOKEN
// above all — stays out.
var passThrough = []string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM"}

func passes(key string) bool {
	return slices.Contains(passThrough, key) || strings.HasPrefix(key, "LC_")
}

// taskEnv is a task's environment in layers, later ones winning:
// what passes through from tmplrun, the task dir paths, the task's env
// block (${…} of the paths resolved), the env templates, and the Vault
// variables.
type taskEnv struct {
	task  *template.Task
	base  map[string]string // passed through from tmplrun's environment
	paths map[string]string // NOMAD_TASK_DIR and friends
}

func newTaskEnv(t *template.Task, environ []string) *taskEnv {
	base := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && passes(k) {
			base[k] = v
		}
	}
	dir := t.Dir
	paths := map[string]string{
		"NOMAD_TASK_DIR":    filepath.Join(dir, template.LocalDir),
		"NOMAD_SECRETS_DIR": filepath.Join(dir, template.SecretsDir),
		"NOMAD_ALLOC_DIR":   filepath.Join(dir, template.AllocDir),
		"NOMAD_TASK_NAME":   t.Name,
		"TMPLRUN_TASK":      t.Name,
		"TMPLRUN_TASK_DIR":  dir,
		"TMPDIR":            filepath.Join(dir, template.TmpDir),
	}
	return &taskEnv{task: t, base: base, paths: paths}
}

var ref = regexp.MustCompile(`\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}`)

// expand resolves ${NAME} references to the task dir paths (as Nomad
// interpolates its runtime variables); other references stay as written.
func (e *taskEnv) expand(s string) string {
	return ref.ReplaceAllStringFunc(s, func(m string) string {
		name := ref.FindStringSubmatch(m)[1]
		if v, ok := e.paths[name]; ok {
			return v
		}
		return m
	})
}

// forTemplates is what templates see through env: the task's environment
// without its Vault token or any env template's values.
func (e *taskEnv) forTemplates() map[string]string {
	out := maps.Clone(e.base)
	maps.Copy(out, e.paths)
	for k, v := range e.task.Env {
		out[k] = e.expand(v)
	}
	return out
}

// forProcess is the process's environment: forTemplates, then the env
// templates' values, then the Vault variables.
func (e *taskEnv) forProcess(fromTemplates, vault map[string]string) []string {
	all := e.forTemplates()
	maps.Copy(all, fromTemplates)
	maps.Copy(all, vault)
	out := make([]string, 0, len(all))
	for _, k := range slices.Sorted(maps.Keys(all)) {
		out = append(out, k+"="+all[k])
	}
	return out
}

// command is the task's command and args with ${…} paths resolved.
func (e *taskEnv) command() (string, []string) {
	args := make([]string, len(e.task.Args))
	for i, a := range e.task.Args {
		args[i] = e.expand(a)
	}
	return e.expand(e.task.Command), args
}
