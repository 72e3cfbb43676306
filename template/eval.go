package template

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// parser holds the state of one file's decoding: its bytes (to keep
// ${…} references literally), the evaluation context (var, local,
// functions) and every problem found so far.
type parser struct {
	filename string
	src      []byte
	dir      string // the file's directory: file() and dir resolve against it
	ctx      *hcl.EvalContext
	declared map[string]bool // declared variable names
	locals   map[string]bool // defined local names
	diags    hcl.Diagnostics
}

func (p *parser) errorf(rng *hcl.Range, format string, args ...any) {
	p.diags = append(p.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf(format, args...), Subject: rng})
}

func (p *parser) warnf(rng *hcl.Range, format string, args ...any) {
	p.diags = append(p.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: fmt.Sprintf(format, args...), Subject: rng})
}

// text returns the source text of a range.
func (p *parser) text(r hcl.Range) string {
	if r.Start.Byte < 0 || r.End.Byte > len(p.src) || r.Start.Byte > r.End.Byte {
		return ""
	}
	return string(p.src[r.Start.Byte:r.End.Byte])
}

// resolvable reports whether every variable an expression refers to is
// one HCL evaluates here (var.*, local.*). Anything else — NOMAD_*,
// attr.*, node.*, meta.*, env[…] — is Nomad's runtime interpolation, kept
// in the text literally as Nomad does.
func (p *parser) resolvable(expr hclsyntax.Expression) bool { return resolvableIn(p.ctx, expr) }

// eval evaluates an expression, keeping unresolvable ${…} references in
// string templates literally.
func (p *parser) eval(expr hclsyntax.Expression) (cty.Value, hcl.Diagnostics) {
	if d := p.checkVarRefs(expr); d.HasErrors() {
		return cty.NilVal, d
	}
	if p.resolvable(expr) {
		return expr.Value(p.ctx)
	}
	switch e := expr.(type) {
	case *hclsyntax.TemplateExpr:
		text, _, diags := p.evalTemplate(p.ctx, e)
		if diags.HasErrors() {
			return cty.NilVal, diags
		}
		return cty.StringVal(text), diags
	case *hclsyntax.TemplateWrapExpr:
		return cty.StringVal("${" + strings.TrimSpace(p.text(e.Wrapped.Range())) + "}"), nil
	case *hclsyntax.TupleConsExpr:
		vals := make([]cty.Value, 0, len(e.Exprs))
		for _, ex := range e.Exprs {
			v, diags := p.eval(ex)
			if diags.HasErrors() {
				return cty.NilVal, diags
			}
			vals = append(vals, v)
		}
		return cty.TupleVal(vals), nil
	case *hclsyntax.ObjectConsExpr:
		attrs := map[string]cty.Value{}
		for _, item := range e.Items {
			k, diags := item.KeyExpr.Value(p.ctx)
			if diags.HasErrors() {
				return cty.NilVal, diags
			}
			ks, ok := asString(k)
			if !ok {
				return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "object keys must be strings", Subject: item.KeyExpr.Range().Ptr()}}
			}
			v, diags := p.eval(item.ValueExpr)
			if diags.HasErrors() {
				return cty.NilVal, diags
			}
			attrs[ks] = v
		}
		return cty.ObjectVal(attrs), nil
	}
	return expr.Value(p.ctx)
}

// checkVarRefs turns a reference to an undeclared variable or an undefined
// local into a clear error (HCL would say "unsupported attribute").
func (p *parser) checkVarRefs(expr hclsyntax.Expression) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range hclsyntax.Variables(expr) {
		if len(tr) < 2 {
			continue
		}
		attr, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		var d *hcl.Diagnostic
		switch root := tr.RootName(); {
		case root == "var" && !p.declared[attr.Name]:
			d = &hcl.Diagnostic{
				Summary: fmt.Sprintf("undefined variable %q", attr.Name),
				Detail:  fmt.Sprintf("declare it: variable %q { default = … }", attr.Name),
			}
			if s := suggest(attr.Name, sortedKeys(p.declared)); s != "" {
				d.Detail = fmt.Sprintf("did you mean var.%s? Or declare it: variable %q { default = … }", s, attr.Name)
			}
		case root == "local" && p.locals != nil && !p.locals[attr.Name]:
			d = &hcl.Diagnostic{
				Summary: fmt.Sprintf("undefined local %q", attr.Name),
				Detail:  fmt.Sprintf("define it in a locals block: locals { %s = … }", attr.Name),
			}
			if s := suggest(attr.Name, sortedKeys(p.locals)); s != "" {
				d.Detail = fmt.Sprintf("did you mean local.%s?", s)
			}
		default:
			continue
		}
		d.Severity = hcl.DiagError
		d.Subject = tr.SourceRange().Ptr()
		diags = append(diags, d)
	}
	return diags
}

// declareVariables evaluates `variable` blocks (and a `variables` block of
// plain attributes, as Nomad also accepts) into var.*. values are given
// from outside (the CLI's -var name=value); a string is parsed as an HCL
// expression when the variable's type is not string.
func (p *parser) declareVariables(body *hclsyntax.Body, values map[string]string) {
	vars := map[string]cty.Value{}
	p.declared = map[string]bool{}
	declare := func(name string, rng hcl.Range, typ cty.Type, def cty.Value, hasDefault bool) {
		if p.declared[name] {
			p.errorf(rng.Ptr(), "variable %q is declared twice", name)
			return
		}
		p.declared[name] = true
		val := def
		if raw, ok := values[name]; ok {
			val = p.parseVarValue(name, raw, typ)
		} else if !hasDefault {
			p.errorf(rng.Ptr(), "variable %q has no default and no value was given", name)
			val = cty.DynamicVal
		}
		if typ != cty.DynamicPseudoType && val.IsKnown() {
			conv, err := convert.Convert(val, typ)
			if err != nil {
				p.errorf(rng.Ptr(), "variable %q: value does not match its type %s: %s", name, typ.FriendlyName(), err)
				conv = cty.DynamicVal
			}
			val = conv
		}
		vars[name] = val
	}
	for _, blk := range body.Blocks {
		switch blk.Type {
		case "variable":
			if len(blk.Labels) != 1 {
				p.errorf(blk.DefRange().Ptr(), "a variable block needs one label, its name: variable \"image\" { … }")
				continue
			}
			typ, def, hasDefault := p.variableBlock(blk)
			declare(blk.Labels[0], blk.DefRange(), typ, def, hasDefault)
		case "variables":
			for _, attr := range sortedAttrs(blk.Body) {
				v, diags := attr.Expr.Value(&hcl.EvalContext{Functions: p.ctx.Functions})
				p.diags = append(p.diags, diags...)
				declare(attr.Name, attr.SrcRange, cty.DynamicPseudoType, v, !diags.HasErrors())
			}
		}
	}
	for name := range values {
		if !p.declared[name] {
			p.diags = append(p.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("a value was given for variable %q, which the file does not declare", name)})
		}
	}
	p.ctx.Variables["var"] = cty.ObjectVal(vars)
}

// variableBlock reads a variable block's type and default.
func (p *parser) variableBlock(blk *hclsyntax.Block) (cty.Type, cty.Value, bool) {
	typ := cty.DynamicPseudoType
	def := cty.NilVal
	hasDefault := false
	for _, attr := range sortedAttrs(blk.Body) {
		switch attr.Name {
		case "type":
			t, diags := typeexpr.TypeConstraint(attr.Expr)
			p.diags = append(p.diags, diags...)
			if !diags.HasErrors() {
				typ = t
			}
		case "default":
			v, diags := attr.Expr.Value(&hcl.EvalContext{Functions: p.ctx.Functions})
			p.diags = append(p.diags, diags...)
			def, hasDefault = v, !diags.HasErrors()
		case "description", "sensitive", "nullable":
		default:
			p.unknown(attr.NameRange, fmt.Sprintf("variable %q", blk.Labels[0]), "argument", attr.Name, []string{"default", "description", "type"}, false)
		}
	}
	for _, b := range blk.Body.Blocks {
		if b.Type == "validation" {
			p.warnf(b.DefRange().Ptr(), "variable %q: validation blocks are not evaluated by tmplrun", blk.Labels[0])
		}
	}
	if !hasDefault {
		return typ, cty.NullVal(typ), false
	}
	return typ, def, true
}

// parseVarValue turns a -var string into a value of the variable's type.
func (p *parser) parseVarValue(name, raw string, typ cty.Type) cty.Value {
	if typ == cty.String || typ == cty.DynamicPseudoType {
		return cty.StringVal(raw)
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), "-var "+name, hcl.InitialPos)
	if diags.HasErrors() {
		p.diags = append(p.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("value for variable %q is not a valid %s: %s", name, typ.FriendlyName(), diags.Error())})
		return cty.DynamicVal
	}
	v, diags := expr.Value(&hcl.EvalContext{Functions: p.ctx.Functions})
	if diags.HasErrors() {
		p.diags = append(p.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("value for variable %q: %s", name, diags.Error())})
		return cty.DynamicVal
	}
	return v
}

// declareLocals evaluates every `locals` block into local.*; a local may
// refer to variables and to other locals, in any order.
func (p *parser) declareLocals(body *hclsyntax.Body) {
	pending := map[string]*hclsyntax.Attribute{}
	for _, blk := range body.Blocks {
		if blk.Type != "locals" {
			continue
		}
		for _, attr := range sortedAttrs(blk.Body) {
			if prev, dup := pending[attr.Name]; dup {
				p.errorf(attr.NameRange.Ptr(), "local %q is defined twice (first at line %d)", attr.Name, prev.SrcRange.Start.Line)
				continue
			}
			pending[attr.Name] = attr
		}
	}
	p.locals = map[string]bool{}
	for name := range pending {
		p.locals[name] = true
	}
	locals := map[string]cty.Value{}
	p.ctx.Variables["local"] = cty.ObjectVal(locals)
	for len(pending) > 0 {
		progressed := false
		for _, name := range sortedKeys(pending) {
			attr := pending[name]
			if !p.localsReady(attr.Expr, locals, pending) {
				continue
			}
			v, diags := p.eval(attr.Expr)
			p.diags = append(p.diags, diags...)
			if diags.HasErrors() {
				v = cty.DynamicVal
			}
			locals[name] = v
			p.ctx.Variables["local"] = cty.ObjectVal(locals)
			delete(pending, name)
			progressed = true
		}
		if !progressed {
			for _, name := range sortedKeys(pending) {
				p.errorf(pending[name].SrcRange.Ptr(), "local %q refers to itself, directly or through other locals", name)
				locals[name] = cty.DynamicVal
			}
			p.ctx.Variables["local"] = cty.ObjectVal(locals)
			return
		}
	}
}

// localsReady reports whether every local.x an expression uses is already
// evaluated (a local that is not defined at all is left for eval to
// report).
func (p *parser) localsReady(expr hclsyntax.Expression, done map[string]cty.Value, pending map[string]*hclsyntax.Attribute) bool {
	for _, tr := range hclsyntax.Variables(expr) {
		if tr.RootName() != "local" || len(tr) < 2 {
			continue
		}
		if attr, ok := tr[1].(hcl.TraverseAttr); ok {
			if _, ok := done[attr.Name]; !ok && pending[attr.Name] != nil {
				return false
			}
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// readConfigFile reads a file named relative to the configuration file's
// directory (for file() and templatefile()).
func (p *parser) readConfigFile(name string) ([]byte, error) {
	if !strings.HasPrefix(name, "/") {
		name = p.dir + string(os.PathSeparator) + name
	}
	return os.ReadFile(name)
}
