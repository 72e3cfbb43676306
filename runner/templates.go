package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"
	cttemplate "github.com/hashicorp/consul-template/template"

	"github.com/tmplrun/tmplrun/template"
)

// tmplState is one template as the runner's loop sees it.
type tmplState struct {
	spec *template.Template
	ct   *cttemplate.Template
	wait waitWindow

	// used and missing are filled by the template functions during one
	// execution (see funcMap).
	used, missing *dep.Set
	missingNames  []string
	// missingFP is the fingerprint of used when the last execution found
	// data missing: until it changes, executing again is pointless.
	missingFP uint64

	rendered bool // at least once (first render)
	done     bool // a once template, rendered
	fp       uint64
	sum      [32]byte // of the content last written

	quiet quiet // pending quiescence (decideRender)
	// unstable: its output was seen changing without new data (reported).
	unstable bool

	env map[string]string // parsed output of an env template

	lastRender, lastChange time.Time
	renders, errors        uint64
	lastErr                string
}

// buildTemplates parses each template's source into a consul-template
// template with the runner's functions, denylist and delimiters.
func (r *Runner) buildTemplates() error {
	deny := append(slices.Clone(r.tc.FunctionDenylist), template.UnsupportedFunctions...)
	if r.cfg.VaultCluster == nil {
		// Disabled for a task without a Vault connection.
		deny = append(deny, template.VaultFunctions...)
	}
	exact, globs := splitDenylist(deny)
	sandboxPath := r.dir.Path()
	reader := r.dir.ReadFile
	if r.tc.DisableFileSandbox {
		// Sources may then live anywhere (validation allows it); relative
		// ones are still relative to the task dir.
		sandboxPath = ""
		reader = func(p string) ([]byte, error) {
			if !filepath.IsAbs(p) {
				p = filepath.Join(r.dir.Path(), p)
			}
			return os.ReadFile(p)
		}
	}
	for _, spec := range r.cfg.Templates {
		t := &tmplState{spec: spec, wait: effectiveWait(spec, r.tc), used: new(dep.Set), missing: new(dep.Set)}
		ct, err := cttemplate.NewTemplate(&cttemplate.NewTemplateInput{
			Source:           spec.Source,
			Contents:         spec.Data,
			Destination:      filepath.Join(r.dir.Path(), spec.Destination),
			ErrMissingKey:    spec.ErrorOnMissingKey,
			LeftDelim:        spec.LeftDelimiter,
			RightDelim:       spec.RightDelimiter,
			ExtFuncMap:       r.funcMap(t, exact),
			FunctionDenylist: globs,
			SandboxPath:      sandboxPath,
			ReaderFunc:       reader,
		})
		if err != nil {
			return fmt.Errorf("template %s: %w", spec.Destination, err)
		}
		t.ct = ct
		r.tmpls = append(r.tmpls, t)
	}
	return nil
}
