package runner

import (
	"fmt"
	"path/filepath"
	"strings"

	dep "github.com/hashicorp/consul-template/dependency"

	"github.com/tmplrun/tmplrun/template"
)

// funcMap is what the runner puts in place of some of consul-template's
// template functions, for one template:
//
//   - env, mustEnv and envOrDefault see the task's environment only: never
//     tmplrun's own (consul-template's versions fall back to os.Getenv,
//     VAULT_TOKEN included);
//   - file reads inside the task dir through os.Root (see fileDep);
//   - secret, secrets and pkiCert build consul-template's own Vault
//     dependencies, wrapped (trackedDep), and record every dependency they
//     touch in the template's state: the runner knows what a template uses
//     and misses even when its execution fails half-way, so it keeps
//     watching and renders once the data is there.
//
// Every name in denied — ours included — is replaced by a function that
// fails, as consul-template's denylist would (see splitDenylist).
func (r *Runner) funcMap(t *tmplState, denied []string) map[string]any {
	env := r.cfg.Env
	m := map[string]any{
		"env": func(k string) (string, error) { return env[k], nil },
		"mustEnv": func(k string) (string, error) {
			if v := env[k]; v != "" {
				return v, nil
			}
			return "", fmt.Errorf("required environment variable %s is empty", k)
		},
		"envOrDefault": func(k, def string) (string, error) {
			if v, ok := env[k]; ok {
				return v, nil
			}
			return def, nil
		},
		"file": func(p string) (string, error) {
			p = strings.TrimSpace(p)
			if p == "" {
				return "", nil
			}
			d, err := r.newFileDep(p)
			if err != nil {
				return "", err
			}
			v, ok := r.recall(t, d)
			if !ok {
				return "", nil
			}
			s, _ := v.(string)
			return s, nil
		},
		"secret": func(args ...string) (any, error) {
			if len(args) == 0 {
				return nil, nil
			}
			data, err := kvPairs(args[1:])
			if err != nil {
				return nil, err
			}
			var d dep.Dependency
			var p pauser
			if len(args) == 1 {
				d, err = dep.NewVaultReadQuery(args[0])
			} else {
				d, err = dep.NewVaultWriteQuery(args[0], data)
				p = writePauser{path: args[0], data: data}
			}
			if err != nil {
				return nil, err
			}
			v, ok := r.recall(t, r.track(d, p))
			if !ok {
				return nil, nil
			}
			return v, nil
		},
		"secrets": func(p string) ([]string, error) {
			if p == "" {
				return nil, nil
			}
			d, err := dep.NewVaultListQuery(p)
			if err != nil {
				return nil, err
			}
			v, ok := r.recall(t, r.track(d, nil))
			if !ok {
				return nil, nil
			}
			keys, _ := v.([]string)
			return keys, nil
		},
		"pkiCert": func(args ...string) (any, error) {
			if len(args) == 0 {
				return nil, nil
			}
			data, err := kvPairs(args[1:])
			if err != nil {
				return nil, err
			}
			// consul-template reads the current certificate back from the
			// destination (os.ReadFile, not confined) to renew it from its
			// own expiry.
			file := filepath.Join(r.dir.Path(), t.spec.Destination)
			d, err := dep.NewVaultPKIQuery(args[0], file, data)
			if err != nil {
				return nil, err
			}
			v, ok := r.recall(t, r.track(d, pkiPauser{path: args[0], file: file, data: data}))
			if !ok {
				return nil, nil
			}
			return v, nil
		},
	}
	for _, name := range denied {
		m[name] = disabled
	}
	return m
}

// recall records d as used by t and returns its data, or records it as
// missing.
func (r *Runner) recall(t *tmplState, d dep.Dependency) (any, bool) {
	t.used.Add(d)
	if v, ok := r.brain.Recall(d); ok {
		return v, true
	}
	t.missing.Add(d)
	return nil, false
}

// kvPairs parses secret's "k=v" arguments.
func kvPairs(args []string) (map[string]any, error) {
	data := make(map[string]any, len(args))
	for i, a := range args {
		if a == "" {
			continue
		}
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			// Do not echo the argument: it may be a secret.
			return nil, fmt.Errorf("argument %d is not a k=v pair", i+2)
		}
		data[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return data, nil
}

// newFileDep resolves a path given to `file`: relative to the task dir,
// or an absolute path inside it. With the file sandbox disabled any path
// goes, relative ones still relative to the task dir.
func (r *Runner) newFileDep(p string) (*fileDep, error) {
	d := &fileDep{name: p, interval: r.filePoll, stop: make(chan struct{})}
	if r.tc.DisableFileSandbox {
		d.abs = p
		if !filepath.IsAbs(p) {
			d.abs = filepath.Join(r.dir.Path(), p)
		}
		return d, nil
	}
	rel, err := template.ResolvePath(r.dir.Path(), p)
	if err != nil {
		return nil, fmt.Errorf("file %q: %w", p, err)
	}
	d.rel, d.root = rel, r.dir.Root()
	return d, nil
}
