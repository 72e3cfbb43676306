package template

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/template/parse"

	cttemplate "github.com/hashicorp/consul-template/template"
	"github.com/hashicorp/hcl/v2"
	"github.com/ryanuber/go-glob"
	"github.com/tmplrun/tmplrun/sandbox"
)

// TextProblem is a mistake in a template's text, found without running it.
type TextProblem struct {
	Line, Column int // 1-based, inside the template text; Column 0 = unknown
	Message      string
}

// CheckText parses template text as consul-template will — with the given
// delimiters — and reports syntax errors, functions that do not exist,
// and functions the denylist (glob patterns, as function_denylist) turns
// off. It never executes the template.
func CheckText(text, left, right string, denylist []string) []TextProblem {
	tree := parse.New("t")
	tree.Mode = parse.SkipFuncCheck | parse.ParseComments
	if _, err := tree.Parse(text, left, right, map[string]*parse.Tree{}); err != nil {
		return []TextProblem{syntaxProblem(err)}
	}
	var out []TextProblem
	seen := map[string]bool{}
	walk(tree.Root, func(n parse.Node) {
		id, ok := n.(*parse.IdentifierNode)
		if !ok {
			return
		}
		line, col := position(tree, n)
		for _, pattern := range denylist {
			if glob.Glob(pattern, id.Ident) {
				out = append(out, TextProblem{line, col, fmt.Sprintf("function %q is denied by function_denylist", id.Ident)})
				return
			}
		}
		if !seen[id.Ident] && !functionExists(id.Ident) {
			out = append(out, TextProblem{line, col, fmt.Sprintf("function %q is not defined", id.Ident)})
		}
		seen[id.Ident] = true
	})
	return out
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
// so a symlink cannot make validation print another file's lines).
func (c *Config) checkTemplateTexts() hcl.Diagnostics {
	var diags hcl.Diagnostics
	deny := DefaultFunctionDenylist
	if c.TemplateConfig != nil {
		deny = c.TemplateConfig.FunctionDenylist
	}
	for _, t := range c.Tasks {
		for _, tmpl := range t.Templates {
			ctx := fmt.Sprintf("task %q, template %q", t.Name, tmpl.Destination)
			text, start, ok := c.templateText(t, tmpl, ctx, &diags)
			if !ok {
				continue
			}
			for _, p := range CheckText(text, tmpl.LeftDelimiter, tmpl.RightDelimiter, deny) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("%s: template line %d: %s", ctx, p.Line, p.Message),
					Subject:  textRange(start, p, c.src),
				})
			}
		}
	}
	return diags
}

// templateText returns a template's text and where line 1 of it is.
func (c *Config) templateText(t *Task, tmpl *Template, ctx string, diags *hcl.Diagnostics) (string, *hcl.Range, bool) {
	if tmpl.Data != "" {
		if tmpl.DataRange.Filename == "" {
			return tmpl.Data, nil, true
		}
		r := tmpl.DataRange
		return tmpl.Data, &r, true
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
	path := filepath.Join(t.Dir, rel)
	return string(src), &hcl.Range{Filename: path, Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 1}}, true
}

// textRange maps a problem's line inside a template to the file: exact for
// heredocs and source files, the start of the string otherwise.
func textRange(start *hcl.Range, p TextProblem, src []byte) *hcl.Range {
	if start == nil {
		return nil
	}
	r := hcl.Range{Filename: start.Filename, Start: start.Start}
	if p.Line > 1 && start.Start.Line == start.End.Line {
		// A one-line quoted string: its "\n" escapes do not map to lines
		// of the file.
		r.End = r.Start
		return &r
	}
	if p.Line > 1 {
		r.Start = hcl.Pos{Line: start.Start.Line + p.Line - 1, Column: 1, Byte: -1}
	}
	if p.Column > 0 {
		if p.Line <= 1 {
			r.Start.Column = start.Start.Column + rawOffset(src, start.Start.Byte, p.Column-1)
		} else {
			r.Start.Column = p.Column
		}
	}
	r.End = r.Start
	return &r
}

// rawOffset maps an offset in a quoted HCL string's value to the offset
// in its source text, stepping over escapes (\", \n, \uXXXX, $${, %%{).
// Without the source (a Config built in code) it returns n unchanged.
func rawOffset(src []byte, start, n int) int {
	if start < 0 || start >= len(src) || start > 0 && src[start-1] != '"' {
		return n
	}
	raw := src[start:]
	i := 0
	for k := 0; k < n && i < len(raw); k++ {
		switch {
		case raw[i] == '\\' && i+1 < len(raw):
			switch raw[i+1] {
			case 'u':
				i += 6
			case 'U':
				i += 10
			default:
				i += 2
			}
		case (raw[i] == '$' || raw[i] == '%') && i+2 < len(raw) && raw[i+1] == raw[i] && raw[i+2] == '{':
			i += 2
		default:
			i++
		}
	}
	return i
}
