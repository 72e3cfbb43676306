package runner

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/tmplrun/tmplrun/template"
)

// Config is one task's templates and everything the runner needs around
// them. Templates and TemplateConfig come from the template package,
// canonicalized (destinations and sources are clean paths relative to
// Dir). The runner never reads tmplrun's own environment: Vault's address
// and the token are whatever is given here.
type Config struct {
	// Task names the task in events and log lines.
	Task string
	// Dir is the task directory. It is created (0755, with local/,
	// secrets/ 0700 and tmp/) when missing.
	Dir string

	Templates []*template.Template
	// TemplateConfig holds the node-wide settings (denylist, sandbox,
	// vault_retry, wait, wait_bounds, vault_default_lease_duration,
	// first_render_timeout). nil means template.NewTemplateConfig's; nil
	// fields get their defaults (a nil function_denylist is the default
	// denylist, a nil wait is 5s/4m: write zero durations for none).
	TemplateConfig *template.TemplateConfig

	// Vault is the task's vault block; its change_mode applies when
	// SetToken brings a new token. nil: the task has no vault block.
	Vault *template.Vault
	// VaultCluster is how to reach Vault: address (required: the caller
	// resolves $VAULT_ADDR), namespace, TLS. nil: no Vault, and the
	// secret, secrets and pkiCert functions are disabled. A namespace in
	// Vault overrides the cluster's.
	VaultCluster *template.VaultCluster
	// Token is the task's Vault token. SetToken replaces it.
	Token string
	// TokenRefused, when set, is called each time Vault answers a request
	// of the task's templates with 403 — the token may have been revoked
	// from outside, or a policy denies the path. It must not block; the
	// CLI hands it to vaultauth's TaskToken.Suspect, which verifies the
	// token at once (rate-limited) and replaces it when it is dead, rather
	// than at its next renewal.
	TokenRefused func()

	// Env is the task's environment as templates see it through env,
	// mustEnv and envOrDefault. Nothing else of the process environment
	// is visible to templates.
	Env map[string]string

	// Lifecycle runs the change modes. nil: a task without a process
	// (nothing is restarted, signalled or executed).
	Lifecycle Lifecycle
	// Events receives the runner's events. nil: events are only logged.
	Events EventSink
	// Logger receives the runner's log lines, with task=<Task> added;
	// pass your base logger. nil: slog.Default().
	Logger *slog.Logger

	// DryRun, when set, receives each rendered template instead of its
	// file being written (tmplrun render -dry-run). The contents hold
	// secret values.
	DryRun func(destination string, contents []byte)
}

func (c *Config) check() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("task dir is empty"))
	}
	dests := map[string]bool{}
	for i, t := range c.Templates {
		if t == nil {
			errs = append(errs, fmt.Errorf("template %d is nil", i))
			continue
		}
		d := t.Destination
		if d == "" || filepath.IsAbs(d) || filepath.Clean(d) != d || d == ".." || len(d) > 2 && d[:3] == "../" {
			errs = append(errs, fmt.Errorf("template %d: destination %q is not a clean path relative to the task dir (canonicalize the task first)", i, d))
		}
		if dests[d] {
			errs = append(errs, fmt.Errorf("template %d: destination %q is used twice", i, d))
		}
		dests[d] = true
		if (t.Source == "") == (t.Data == "") {
			errs = append(errs, fmt.Errorf("template %s: exactly one of source and data must be set", d))
		}
		if t.ChangeMode == template.ChangeModeScript && t.ChangeScript == nil {
			errs = append(errs, fmt.Errorf("template %s: change_mode script needs a change_script", d))
		}
	}
	if c.VaultCluster != nil && c.VaultCluster.Address == "" {
		errs = append(errs, errors.New("vault address is empty (the caller resolves $VAULT_ADDR)"))
	}
	return errors.Join(errs...)
}

// canonical returns cfg with copies of its templates, template settings
// and vault block completed by the template package's Canonicalize, so
// that a hand-built config gets the same defaults as a parsed one (above
// all the default function denylist). Nothing the caller holds is
// modified: one TemplateConfig may serve many runners built at once.
func (c Config) canonical() Config {
	tc := template.NewTemplateConfig()
	if c.TemplateConfig != nil {
		cp := *c.TemplateConfig
		cp.FunctionDenylist = slices.Clone(cp.FunctionDenylist)
		cp.VaultRetry = clonePtr(cp.VaultRetry)
		cp.Wait = cloneWait(cp.Wait)
		cp.WaitBounds = cloneWait(cp.WaitBounds)
		tc = &cp
	}
	whole := &template.Config{TemplateConfig: tc}
	whole.Canonicalize()
	c.TemplateConfig = whole.TemplateConfig
	if c.Vault != nil {
		v := *c.Vault
		v.Canonicalize()
		c.Vault = &v
	}
	ts := make([]*template.Template, len(c.Templates))
	for i, t := range c.Templates {
		cp := *t
		cp.Wait = cloneWait(cp.Wait)
		cp.ChangeScript = clonePtr(cp.ChangeScript)
		cp.Canonicalize()
		ts[i] = &cp
	}
	c.Templates = ts
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	cp := *p
	return &cp
}

func cloneWait(w *template.Wait) *template.Wait {
	if w == nil {
		return nil
	}
	return &template.Wait{Min: clonePtr(w.Min), Max: clonePtr(w.Max), Pos: w.Pos}
}
