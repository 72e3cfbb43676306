package template

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Options adjust parsing.
type Options struct {
	// Vars gives values to the file's `variable` blocks, as Nomad's
	// `-var name=value` does. A value for a variable whose type is not
	// string is parsed as an HCL expression ("[1, 2]", "true").
	Vars map[string]string
}

// ParseFile reads, decodes, canonicalizes and validates a configuration
// file: tmplrun's own format or a Nomad jobspec (a file with a `job`
// block). On any error it returns a nil Config and an *Error that lists
// every problem; warnings of a valid file are in Config.Warnings.
func ParseFile(path string, opts *Options) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, src, opts)
}

// Parse is ParseFile for a file already in memory. filename names it in
// messages and anchors relative paths (task dirs, file()).
func Parse(filename string, src []byte, opts *Options) (*Config, error) {
	if opts == nil {
		opts = &Options{}
	}
	files := map[string][]byte{filename: src}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, &Error{Diagnostics: diags, files: files}
	}
	abs, err := filepath.Abs(filename)
	if err != nil {
		return nil, fmt.Errorf("config path: %w", err)
	}
	p := &parser{filename: filename, src: src, dir: filepath.Dir(abs)}
	p.diags = diags
	p.ctx = &hcl.EvalContext{Variables: map[string]cty.Value{}}
	p.ctx.Functions = p.functions()

	body := file.Body.(*hclsyntax.Body)
	p.declareVariables(body, opts.Vars)
	p.declareLocals(body)

	cfg := &Config{File: filename, src: src}
	if hasBlock(body, "job") {
		cfg.Format = FormatJobspec
		p.decodeJobspec(body, cfg)
	} else {
		cfg.Format = FormatTmplrun
		p.decodeBody(body, reflect.ValueOf(cfg), "", blockSpec{
			strict: true,
			skip:   map[string]bool{"variable": true, "variables": true, "locals": true},
		})
	}
	// Validation runs even when decoding found problems: a value that did
	// not decode keeps its default, so nothing is reported twice, and the
	// user sees every mistake at once.
	for _, v := range cfg.Vaults {
		v.absFiles(p.dir)
	}
	for _, t := range cfg.Tasks {
		if t.Dir == "" {
			t.Dir = t.Name
		}
		if !filepath.IsAbs(t.Dir) {
			t.Dir = filepath.Join(p.dir, t.Dir)
		}
	}
	cfg.Canonicalize()
	diags = append(p.diags, cfg.validate()...)
	diags = append(diags, cfg.checkTemplateTexts(files)...)
	sortDiagnostics(diags, filename)
	if diags.HasErrors() {
		return nil, &Error{Diagnostics: diags, files: files}
	}
	cfg.Warnings = diags
	return cfg, nil
}

func hasBlock(body *hclsyntax.Body, typ string) bool {
	for _, b := range body.Blocks {
		if b.Type == typ {
			return true
		}
	}
	return false
}

// sortDiagnostics orders diagnostics as they appear in the file (those of
// the config file first, then template source files, then those with no
// place), so that a user can fix them top to bottom.
func sortDiagnostics(diags hcl.Diagnostics, main string) {
	rank := func(d *hcl.Diagnostic) int {
		switch {
		case d.Subject == nil || d.Subject.Filename == "":
			return 2
		case d.Subject.Filename == main:
			return 0
		}
		return 1
	}
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i], diags[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if a.Subject == nil || b.Subject == nil {
			return false
		}
		if a.Subject.Filename != b.Subject.Filename {
			return a.Subject.Filename < b.Subject.Filename
		}
		if a.Subject.Start.Line != b.Subject.Start.Line {
			return a.Subject.Start.Line < b.Subject.Start.Line
		}
		return a.Subject.Start.Column < b.Subject.Start.Column
	})
}

// absFiles makes the file paths of an agent vault block absolute, relative
// to dir (the configuration file's directory), as task dirs are.
func (v *VaultCluster) absFiles(dir string) {
	paths := []*string{&v.CAFile, &v.CertFile, &v.KeyFile}
	if a := v.Auth; a != nil {
		paths = append(paths, &a.TokenFile, &a.RoleIDFile, &a.SecretIDFile, &a.Path, &a.TokenPath)
	}
	if id := v.Identity; id != nil {
		paths = append(paths, &id.SigningKeyFile)
	}
	for _, p := range paths {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// relName names a file given relative to the configuration file's
// directory the way the configuration file itself was named (relative
// names stay relative), for messages.
func (p *parser) relName(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(p.filename), name)
}
