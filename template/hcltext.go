package template

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// HCL string templates ("…", <<EOT heredocs) are evaluated here part by
// part, so that Nomad's runtime variables stay in the text literally —
// also inside %{ if } and %{ for } directives — and so that every piece of
// the resulting text remembers where it was written: a problem in a
// template's text can then name its line and column in the file.

// textMap maps offsets in a template's text back to where the text was
// written.
type textMap struct {
	// file names a file that holds the text as it is (a template's source,
	// or data = file("…")): line and column map one to one.
	file string
	// segs are the pieces of an HCL string template, in order.
	segs []segment
	// heredoc: segs come from a heredoc (no backslash escapes); flush is
	// the indent <<- stripped from each line.
	heredoc bool
	flush   int
	// at is the expression, for text that maps no better (a local, a
	// function's result).
	at hcl.Range
}

// segment is one piece of an evaluated HCL string template.
type segment struct {
	off, n int     // where the piece is in the text, and its length
	pos    hcl.Pos // where it starts in the file
	lit    bool    // written literally: raw maps onto the text
	raw    []byte  // the literal's source bytes
}

// locate returns where a problem at line:col of the text (Column 0: the
// line's start) was written, or nil when nothing is known.
func (m *textMap) locate(text string, line, col int) *hcl.Range {
	if m == nil {
		return nil
	}
	if col < 1 {
		col = 1
	}
	if m.file != "" {
		p := hcl.Pos{Line: line, Column: col, Byte: -1}
		return &hcl.Range{Filename: m.file, Start: p, End: p}
	}
	off := lineOffset(text, line) + col - 1
	if off > len(text) {
		off = len(text)
	}
	var seg *segment
	for i := range m.segs {
		if m.segs[i].off <= off {
			seg = &m.segs[i]
		}
	}
	if seg == nil {
		r := m.at
		r.End = r.Start
		return &r
	}
	p := seg.pos
	if seg.lit {
		p = m.walk(seg, off-seg.off)
	}
	return &hcl.Range{Filename: m.at.Filename, Start: p, End: p}
}

// walk steps through a literal's source until k bytes of its value are
// behind, and returns the position reached.
func (m *textMap) walk(seg *segment, k int) hcl.Pos {
	raw := seg.raw
	line, col, i, v := seg.pos.Line, seg.pos.Column, 0, 0
	lineStart := false
	for v < k && i < len(raw) {
		if lineStart && m.flush > 0 && !blankLine(raw[i:]) {
			for s := 0; s < m.flush && i < len(raw) && (raw[i] == ' ' || raw[i] == '\t'); s++ {
				i++
				col++
			}
			lineStart = false
			continue
		}
		lineStart = false
		c := raw[i]
		switch {
		case !m.heredoc && c == '\\' && i+1 < len(raw):
			rn, vn := 2, 1
			switch raw[i+1] {
			case 'u', 'U':
				rn = 6
				if raw[i+1] == 'U' {
					rn = 10
				}
				if i+rn <= len(raw) {
					if r, err := strconv.ParseUint(string(raw[i+2:i+rn]), 16, 32); err == nil {
						vn = utf8.RuneLen(rune(r))
					}
				}
			}
			i, v, col = i+rn, v+vn, col+rn
		case (c == '$' || c == '%') && i+2 < len(raw) && raw[i+1] == c && raw[i+2] == '{':
			i, col = i+1, col+1 // $${ is ${ in the text
		case c == '\n':
			i, v, line, col, lineStart = i+1, v+1, line+1, 1, true
		default:
			if c&0xC0 != 0x80 {
				col++
			}
			i, v = i+1, v+1
		}
	}
	return hcl.Pos{Line: line, Column: col, Byte: seg.pos.Byte + i}
}

func blankLine(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r':
		case '\n':
			return true
		default:
			return false
		}
	}
	return true
}

// lineOffset returns the offset of line n (1-based) in text.
func lineOffset(text string, n int) int {
	off := 0
	for l := 1; l < n; l++ {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return len(text)
		}
		off += i + 1
	}
	return off
}

// evalTemplate evaluates an HCL string template in ctx. Parts whose
// variables HCL cannot resolve (NOMAD_*, attr.*, …) are kept as written;
// a %{ if } or %{ for } directive whose condition or collection needs one
// is an error, since only Nomad could evaluate it.
func (p *parser) evalTemplate(ctx *hcl.EvalContext, e *hclsyntax.TemplateExpr) (string, []segment, hcl.Diagnostics) {
	var b strings.Builder
	var segs []segment
	var diags hcl.Diagnostics
	for _, part := range e.Parts {
		r := part.Range()
		seg := segment{off: b.Len(), pos: r.Start}
		switch {
		case isLiteral(part):
			v, _ := part.Value(nil)
			b.WriteString(v.AsString())
			seg.lit = true
			seg.raw = []byte(p.text(r))
		case resolvableIn(ctx, part):
			v, d := part.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			s, ok := asString(v)
			if !ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("cannot interpolate %s into a string", friendlyType(v)), Subject: r.Ptr()})
				continue
			}
			b.WriteString(s)
		case p.isDirective(part):
			s, d := p.evalDirective(ctx, part)
			diags = append(diags, d...)
			b.WriteString(s)
		default:
			b.WriteString("${" + strings.TrimSpace(p.text(r)) + "}")
		}
		seg.n = b.Len() - seg.off
		segs = append(segs, seg)
	}
	return b.String(), segs, diags
}

func isLiteral(e hclsyntax.Expression) bool {
	_, ok := e.(*hclsyntax.LiteralValueExpr)
	return ok
}

// isDirective reports whether a template part is a %{ … } directive.
func (p *parser) isDirective(e hclsyntax.Expression) bool {
	return strings.HasPrefix(p.text(e.Range()), "%{")
}

// evalDirective evaluates an %{ if } or %{ for } directive whose body
// holds runtime variables.
func (p *parser) evalDirective(ctx *hcl.EvalContext, e hclsyntax.Expression) (string, hcl.Diagnostics) {
	switch x := e.(type) {
	case *hclsyntax.ConditionalExpr:
		if d := p.runtimeTest(ctx, "if", x.Condition); d != nil {
			return "", d
		}
		cond, diags := x.Condition.Value(ctx)
		if diags.HasErrors() {
			return "", diags
		}
		if cond.IsNull() || cond.Type() != cty.Bool {
			return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "an %{ if } condition must be true or false", Subject: x.Condition.Range().Ptr()}}
		}
		branch := x.FalseResult
		if cond.True() {
			branch = x.TrueResult
		}
		return p.evalString(ctx, branch)
	case *hclsyntax.TemplateJoinExpr:
		f, ok := x.Tuple.(*hclsyntax.ForExpr)
		if !ok {
			break
		}
		if d := p.runtimeTest(ctx, "for", f.CollExpr); d != nil {
			return "", d
		}
		coll, diags := f.CollExpr.Value(ctx)
		if diags.HasErrors() {
			return "", diags
		}
		if coll.IsNull() || !coll.CanIterateElements() {
			return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "an %{ for } directive needs a list, set, map or object to iterate over", Subject: f.CollExpr.Range().Ptr()}}
		}
		var b strings.Builder
		for it := coll.ElementIterator(); it.Next(); {
			k, v := it.Element()
			child := ctx.NewChild()
			child.Variables = map[string]cty.Value{f.ValVar: v}
			if f.KeyVar != "" {
				child.Variables[f.KeyVar] = k
			}
			s, d := p.evalString(child, f.ValExpr)
			if d.HasErrors() {
				return "", d
			}
			b.WriteString(s)
		}
		return b.String(), nil
	}
	return "${" + strings.TrimSpace(p.text(e.Range())) + "}", nil
}

// evalString evaluates a directive's body.
func (p *parser) evalString(ctx *hcl.EvalContext, e hclsyntax.Expression) (string, hcl.Diagnostics) {
	if t, ok := e.(*hclsyntax.TemplateExpr); ok {
		s, _, d := p.evalTemplate(ctx, t)
		return s, d
	}
	v, d := e.Value(ctx)
	if d.HasErrors() {
		return "", d
	}
	s, _ := asString(v)
	return s, nil
}

// runtimeTest reports a directive whose condition or collection needs a
// variable only Nomad knows at run time.
func (p *parser) runtimeTest(ctx *hcl.EvalContext, directive string, cond hclsyntax.Expression) hcl.Diagnostics {
	tr, ok := unresolved(ctx, cond)
	if !ok {
		return nil
	}
	name := strings.TrimSpace(p.text(tr.SourceRange()))
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("%%{ %s } depends on ${%s}, which only Nomad knows when the task runs; tmplrun cannot evaluate it", directive, name),
		Detail:   "keep runtime variables in the text (they are kept literally), or use a consul-template {{ if }} / {{ range }} instead",
		Subject:  tr.SourceRange().Ptr(),
	}}
}

// unresolved returns the first reference in expr whose root is not a
// variable of ctx or of its parents (a for directive's iteration
// variables live in a child context).
func unresolved(ctx *hcl.EvalContext, expr hclsyntax.Expression) (hcl.Traversal, bool) {
	for _, tr := range hclsyntax.Variables(expr) {
		if !lookupVar(ctx, tr.RootName()) {
			return tr, true
		}
	}
	return nil, false
}

// resolvableIn reports whether every reference in expr resolves in ctx.
func resolvableIn(ctx *hcl.EvalContext, expr hclsyntax.Expression) bool {
	_, ok := unresolved(ctx, expr)
	return !ok
}

func lookupVar(ctx *hcl.EvalContext, name string) bool {
	for c := ctx; c != nil; c = c.Parent() {
		if _, ok := c.Variables[name]; ok {
			return true
		}
	}
	return false
}

// heredocFlush returns the indent a <<- heredoc strips from its lines: the
// column at which HCL placed a literal that starts a non-blank line.
func (p *parser) heredocFlush(e *hclsyntax.TemplateExpr) int {
	for _, part := range e.Parts {
		if !isLiteral(part) {
			continue
		}
		r := part.Range()
		i := r.Start.Byte
		if i <= 0 || i > len(p.src) || blankLine(p.src[i:]) {
			continue
		}
		n := 0
		for j := i - 1; j >= 0 && (p.src[j] == ' ' || p.src[j] == '\t'); j-- {
			n++
		}
		if j := i - 1 - n; j < 0 || p.src[j] == '\n' {
			return n
		}
	}
	return 0
}

// dataText evaluates a template's data attribute, recording where its text
// was written.
func (p *parser) dataText(attr *hclsyntax.Attribute, ctxName string) (string, *textMap, hcl.Diagnostics) {
	m := &textMap{at: attr.Expr.Range()}
	if d := p.checkVarRefs(attr.Expr); d.HasErrors() {
		return "", nil, d
	}
	switch e := attr.Expr.(type) {
	case *hclsyntax.TemplateExpr:
		s, segs, d := p.evalTemplate(p.ctx, e)
		m.segs = segs
		src := p.text(e.Range())
		m.heredoc = strings.HasPrefix(src, "<<")
		if strings.HasPrefix(src, "<<-") {
			m.flush = p.heredocFlush(e)
		}
		return s, m, d
	case *hclsyntax.FunctionCallExpr:
		if e.Name == "file" && len(e.Args) == 1 {
			if name, d := p.eval(e.Args[0]); !d.HasErrors() {
				if s, ok := asString(name); ok {
					m.file = p.relName(s)
				}
			}
		}
	}
	v, d := p.eval(attr.Expr)
	switch {
	case d.HasErrors() || !v.IsWhollyKnown():
		return "", nil, d
	case v.IsNull():
		return "", m, d // written, and empty
	}
	s, ok := asString(v)
	if !ok {
		d = append(d, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("%s: data must be a string, not %s", ctxName, friendlyType(v)), Subject: attr.Expr.Range().Ptr()})
		return "", nil, d
	}
	return s, m, d
}
