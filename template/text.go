package template

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template/parse"

	cttemplate "github.com/hashicorp/consul-template/template"
	"github.com/hashicorp/hcl/v2"
	"github.com/ryanuber/go-glob"
	"github.com/tmplrun/tmplrun/sandbox"
)

// UnsupportedFunctions are consul-template functions that talk to Consul
// or Nomad, which tmplrun does not connect to. They are always disabled
// (their clients would otherwise be built from tmplrun's own CONSUL_HTTP_*
// and NOMAD_* environment), and a template that calls one fails
// validation.
var UnsupportedFunctions = []string{
	"datacenters", "exportedServices", "key", "keyExists", "keyOrDefault",
	"ls", "safeLs", "node", "nodes", "partitions", "peerings", "service",
	"connect", "services", "tree", "safeTree", "caRoots", "caLeaf",
	"nomadServices", "nomadService", "nomadVarList", "nomadVarListSafe",
	"nomadVar", "nomadVarExists",
}

// TextProblem is a mistake in a template's text, found without running it.
type TextProblem struct {
	Line, Column int // 1-based, inside the template text; Column 0 = unknown
	Message      string
}

// VaultFunctions are the consul-template functions that read Vault; a
// template calling one needs a task with a vault block (a token to read
// with).
var VaultFunctions = []string{"secret", "secrets", "pkiCert"}

// CheckText parses template text as consul-template will — with the given
// delimiters — and reports syntax errors, functions that do not exist,
// functions that need Consul or Nomad (UnsupportedFunctions), functions
// the denylist (glob patterns, as function_denylist) turns off, and
// {{ template "x" }} of a template never defined. {{ define }} and
// {{ block }} bodies are checked as the rest. It never executes the
// template.
func CheckText(text, left, right string, denylist []string) []TextProblem {
	return checkText(text, left, right, denylist, true)
}

// checkText is CheckText; without vault, VaultFunctions are problems too.
func checkText(text, left, right string, denylist []string, vault bool) []TextProblem {
	tree := parse.New("t")
	tree.Mode = parse.SkipFuncCheck | parse.ParseComments
	trees := map[string]*parse.Tree{}
	if _, err := tree.Parse(text, left, right, trees); err != nil {
		return []TextProblem{syntaxProblem(err)}
	}
	var out []TextProblem
	seen := map[string]bool{}
	check := func(tr *parse.Tree, n parse.Node) {
		switch x := n.(type) {
		case *parse.TemplateNode:
			if _, ok := trees[x.Name]; !ok && !seen["template "+x.Name] {
				seen["template "+x.Name] = true
				line, col := position(tr, n)
				out = append(out, TextProblem{line, col, fmt.Sprintf("template %q is not defined; define it with %sdefine %q%s … %send%s", x.Name, left, x.Name, right, left, right)})
			}
			return
		case *parse.IdentifierNode:
			out = append(out, identProblems(tr, x, denylist, vault, seen)...)
		}
	}
	names := sortedKeys(trees)
	for _, name := range names {
		tr := trees[name]
		walk(tr.Root, func(n parse.Node) { check(tr, n) })
	}
	slices.SortStableFunc(out, func(a, b TextProblem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return out
}

// identProblems checks one function name.
func identProblems(tr *parse.Tree, id *parse.IdentifierNode, denylist []string, vault bool, seen map[string]bool) []TextProblem {
	line, col := position(tr, id)
	if slices.Contains(UnsupportedFunctions, id.Ident) {
		return []TextProblem{{line, col, fmt.Sprintf("function %q needs Consul or Nomad, which tmplrun does not connect to", id.Ident)}}
	}
	for _, pattern := range denylist {
		if glob.Glob(pattern, id.Ident) {
			return []TextProblem{{line, col, fmt.Sprintf("function %q is denied by function_denylist", id.Ident)}}
		}
	}
	if !vault && slices.Contains(VaultFunctions, id.Ident) {
		if seen["vault"] {
			return nil
		}
		seen["vault"] = true
		return []TextProblem{{line, col, fmt.Sprintf("function %q reads Vault, but the task has no vault block to give it a token; add one to the task, e.g. vault { policies = [\"app\"] }", id.Ident)}}
	}
	defer func() { seen[id.Ident] = true }()
	if !seen[id.Ident] && !functionExists(id.Ident) {
		return []TextProblem{{line, col, fmt.Sprintf("function %q is not defined", id.Ident)}}
	}
	return nil
}

var parseErrLine = regexp.MustCompile(`^template: [^:]*:(\d+):(?:(\d+):)? ?(.*)$`)

// syntaxProblem turns a text/template parse error into a TextProblem.
func syntaxProblem(err error) TextProblem {
	m := parseErrLine.FindStringSubmatch(err.Error())
	if m == nil {
		return TextProblem{Line: 1, Message: err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	return TextProblem{Line: line, Column: col, Message: m[3]}
}

func position(tree *parse.Tree, n parse.Node) (line, col int) {
	loc, _ := tree.ErrorContext(n)
	parts := strings.Split(loc, ":")
	if len(parts) >= 3 {
		line, _ = strconv.Atoi(parts[len(parts)-2])
		col, _ = strconv.Atoi(parts[len(parts)-1])
		col++ // ErrorContext counts bytes from 0
	}
	return line, col
}

// walk visits every node of a template parse tree.
func walk(n parse.Node, visit func(parse.Node)) {
	if n == nil {
		return
	}
	visit(n)
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return
		}
		for _, c := range x.Nodes {
			walk(c, visit)
		}
	case *parse.ActionNode:
		walk(x.Pipe, visit)
	case *parse.PipeNode:
		if x == nil {
			return
		}
		for _, c := range x.Cmds {
			walk(c, visit)
		}
	case *parse.CommandNode:
		for _, a := range x.Args {
			walk(a, visit)
		}
	case *parse.ChainNode:
		walk(x.Node, visit)
	case *parse.IfNode:
		walk(x.Pipe, visit)
		walk(x.List, visit)
		walk(x.ElseList, visit)
	case *parse.RangeNode:
		walk(x.Pipe, visit)
		walk(x.List, visit)
		walk(x.ElseList, visit)
	case *parse.WithNode:
		walk(x.Pipe, visit)
		walk(x.List, visit)
		walk(x.ElseList, visit)
	case *parse.TemplateNode:
		walk(x.Pipe, visit)
	}
}

// textBuiltins are text/template's own functions.
var textBuiltins = map[string]bool{
	"and": true, "or": true, "not": true, "len": true, "index": true, "slice": true,
	"print": true, "printf": true, "println": true, "html": true, "js": true,
	"urlquery": true, "call": true, "eq": true, "ne": true, "lt": true, "le": true,
	"gt": true, "ge": true,
}

var knownFuncs sync.Map // name → bool

// functionExists asks consul-template whether it defines a function, by
// parsing a template that names it in a branch that never runs. The
// answer is cached: the function set is fixed for the process.
func functionExists(name string) bool {
	if textBuiltins[name] {
		return true
	}
	if v, ok := knownFuncs.Load(name); ok {
		return v.(bool)
	}
	t, err := cttemplate.NewTemplate(&cttemplate.NewTemplateInput{
		Contents:   "{{ if false }}{{ " + name + " }}{{ end }}",
		LeftDelim:  "{{",
		RightDelim: "}}",
	})
	exists := false
	if err == nil {
		_, err = t.Execute(&cttemplate.ExecuteInput{Brain: cttemplate.NewBrain()})
		exists = err == nil || !strings.HasPrefix(err.Error(), "parse")
	}
	knownFuncs.Store(name, exists)
	return exists
}

// checkTemplateTexts runs CheckText on every template: data in place, a
// source file when it exists in the task dir (read through the sandbox,
// so a symlink cannot make validation print another file's lines; the
// text read is added to files, for the snippets).
func (c *Config) checkTemplateTexts(files map[string][]byte) hcl.Diagnostics {
	var diags hcl.Diagnostics
	deny := DefaultFunctionDenylist
	if c.TemplateConfig != nil {
		deny = c.TemplateConfig.FunctionDenylist
	}
	for _, t := range c.Tasks {
		for i, tmpl := range t.Templates {
			ctx := fmt.Sprintf("task %q, %s", t.Name, tmpl.label(i))
			text, m, ok := c.templateText(t, tmpl, ctx, files, &diags)
			if !ok {
				continue
			}
			for _, p := range checkText(text, tmpl.LeftDelimiter, tmpl.RightDelimiter, deny, t.Vault != nil) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("%s: template line %d: %s", ctx, p.Line, p.Message),
					Subject:  m.locate(text, p.Line, p.Column),
				})
			}
		}
	}
	return diags
}

// templateText returns a template's text and where it was written (nil
// for a Config built in code).
func (c *Config) templateText(t *Task, tmpl *Template, ctx string, files map[string][]byte, diags *hcl.Diagnostics) (string, *textMap, bool) {
	if tmpl.Data != "" {
		return tmpl.Data, tmpl.text, true
	}
	if tmpl.Source == "" {
		return "", nil, false
	}
	rel, err := ResolvePath(t.Dir, tmpl.Source)
	if err != nil {
		return "", nil, false // reported by validate
	}
	d, err := sandbox.Open(t.Dir)
	var src []byte
	if err == nil {
		src, err = d.ReadFile(rel)
		d.Close()
	}
	if err != nil {
		msg := fmt.Sprintf("source %s cannot be read here (%v); its text is checked when tmplrun runs", rel, err)
		if errors.Is(err, fs.ErrNotExist) {
			msg = fmt.Sprintf("source %s does not exist yet; its text is checked when tmplrun runs", rel)
		}
		*diags = append(*diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: ctx + ": " + msg, Subject: tmpl.Pos.Of("source")})
		return "", nil, false
	}
	name := c.displayName(filepath.Join(t.Dir, rel))
	if files != nil {
		files[name] = src
	}
	return string(src), &textMap{file: name}, true
}

// displayName names a file the way the configuration file was named: a
// file under the configuration file's directory relative to it when the
// configuration file's name is relative.
func (c *Config) displayName(path string) string {
	if c.File == "" || filepath.IsAbs(c.File) {
		return path
	}
	dir, err := filepath.Abs(filepath.Dir(c.File))
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	return filepath.Join(filepath.Dir(c.File), rel)
}
