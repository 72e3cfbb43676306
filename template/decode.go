package template

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The decoder turns hclsyntax bodies into the model structs. It is driven
// by the structs' hcl tags ("name,attr", "name,block", "name,label" and
// "name,label,optional"), records where every attribute was written (Pos),
// and collects every problem instead of stopping at the first.

// field is one tagged struct field.
type field struct {
	name     string
	kind     string // attr, block, label
	optional bool   // for labels
	index    int
}

var fieldCache sync.Map // reflect.Type → []field

// fieldsOf lists the tagged fields of struct type t, in declaration order.
func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var out []field
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("hcl")
		if tag == "" || tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		f := field{name: parts[0], kind: "attr", index: i}
		for _, p := range parts[1:] {
			switch p {
			case "attr", "block", "label":
				f.kind = p
			case "optional":
				f.optional = true
			}
		}
		out = append(out, f)
	}
	fieldCache.Store(t, out)
	return out
}

// constructors give a block its defaults before its attributes are
// decoded, so that an attribute not written keeps its default and one
// written as zero stays zero.
var constructors = map[reflect.Type]func() reflect.Value{
	reflect.TypeFor[Template]():       func() reflect.Value { return reflect.ValueOf(NewTemplate()) },
	reflect.TypeFor[ChangeScript]():   func() reflect.Value { return reflect.ValueOf(NewChangeScript()) },
	reflect.TypeFor[Vault]():          func() reflect.Value { return reflect.ValueOf(NewVault()) },
	reflect.TypeFor[Task]():           func() reflect.Value { return reflect.ValueOf(NewTask("")) },
	reflect.TypeFor[TemplateConfig](): func() reflect.Value { return reflect.ValueOf(NewTemplateConfig()) },
	reflect.TypeFor[Retry]():          func() reflect.Value { return reflect.ValueOf(NewRetry()) },
	reflect.TypeFor[Identity]():       func() reflect.Value { return reflect.ValueOf(NewIdentity()) },
}

func newBlock(t reflect.Type) reflect.Value {
	if c, ok := constructors[t]; ok {
		return c()
	}
	return reflect.New(t)
}

// blockSpec says how to treat a body's contents.
type blockSpec struct {
	// strict reports attributes and blocks the struct does not know.
	strict bool
	// ignore lists names that are accepted and skipped (Nomad fields that
	// mean nothing here).
	ignore map[string]bool
	// skip lists names the caller decodes itself.
	skip map[string]bool
	// nomad lists the names Nomad knows in a jobspec block that is not
	// strict: a name close to one of them but not among them is likely a
	// typo and gets a warning.
	nomad []string
}

// decodeBody decodes body into the struct out points to. ctxName names the
// block in messages (`task "web"`).
func (p *parser) decodeBody(body *hclsyntax.Body, out reflect.Value, ctxName string, spec blockSpec) {
	v := out.Elem()
	t := v.Type()
	fields := fieldsOf(t)
	pos := Pos{Attrs: map[string]hcl.Range{}, failed: map[string]bool{}}

	known := map[string]field{}
	var attrNames, blockNames []string
	for _, f := range fields {
		switch f.kind {
		case "attr":
			known[f.name] = f
			attrNames = append(attrNames, f.name)
		case "block":
			known[f.name] = f
			blockNames = append(blockNames, f.name)
		}
	}

	for _, attr := range sortedAttrs(body) {
		f, ok := known[attr.Name]
		if spec.skip[attr.Name] {
			continue
		}
		if !ok || f.kind != "attr" {
			if spec.ignore[attr.Name] || !spec.strict {
				p.nearMiss(attr.NameRange, ctxName, "argument", attr.Name, spec.nomad)
				continue
			}
			p.unknown(attr.NameRange, ctxName, "argument", attr.Name, attrNames, f.kind == "block")
			continue
		}
		pos.Attrs[attr.Name] = attr.SrcRange
		if t == reflect.TypeFor[Template]() && attr.Name == "data" {
			text, m, diags := p.dataText(attr, ctxName)
			p.diags = append(p.diags, diags...)
			if m == nil || diags.HasErrors() {
				pos.failed[attr.Name] = true
				continue
			}
			tmpl := out.Interface().(*Template)
			tmpl.Data, tmpl.text = text, m
			continue
		}
		if !p.decodeAttr(attr, v.Field(f.index), ctxName) {
			pos.failed[attr.Name] = true
		}
	}

	seen := map[string]hcl.Range{}
	count := map[string]int{}
	for _, blk := range body.Blocks {
		if spec.skip[blk.Type] {
			continue
		}
		count[blk.Type]++
		f, ok := known[blk.Type]
		if !ok || f.kind != "block" {
			if spec.ignore[blk.Type] || !spec.strict {
				p.nearMiss(blk.TypeRange, ctxName, "block", blk.Type, spec.nomad)
				continue
			}
			p.unknown(blk.TypeRange, ctxName, "block", blk.Type, blockNames, f.kind == "attr")
			continue
		}
		fv := v.Field(f.index)
		elemType := fv.Type()
		if elemType.Kind() == reflect.Slice {
			elemType = elemType.Elem()
		}
		elemType = elemType.Elem() // *T → T
		if fv.Kind() == reflect.Pointer {
			if prev, dup := seen[blk.Type]; dup {
				p.errorf(blk.DefRange().Ptr(), "%s: only one %s block is allowed (the first is at line %d)", ctxName, blk.Type, prev.Start.Line)
				continue
			}
			seen[blk.Type] = blk.DefRange()
		}
		child := newBlock(elemType)
		if !p.decodeLabels(blk, child, ctxName) {
			continue
		}
		name := p.blockName(ctxName, blk, count[blk.Type])
		p.decodeBody(blk.Body, child, joinContext(ctxName, name), blockSpec{strict: spec.strict || isModelBlock(elemType), ignore: nomadIgnored[elemType]})
		setBlockPos(child, blk, name)
		if fv.Kind() == reflect.Slice {
			fv.Set(reflect.Append(fv, child))
		} else {
			fv.Set(child)
		}
	}
	pos.Block = body.SrcRange
	if pf := v.FieldByName("Pos"); pf.IsValid() {
		pf.Set(reflect.ValueOf(pos))
	}
}

// isModelBlock reports whether a block type is one of the blocks Nomad
// itself checks strictly (template, vault and their children); inside a
// jobspec those stay strict while job, group and task are not.
func isModelBlock(t reflect.Type) bool {
	switch t {
	case reflect.TypeFor[Template](), reflect.TypeFor[ChangeScript](), reflect.TypeFor[Wait](), reflect.TypeFor[Vault]():
		return true
	}
	return false
}

// nomadIgnored lists fields Nomad accepts that have no meaning here.
var nomadIgnored = map[reflect.Type]map[string]bool{
	reflect.TypeFor[Template](): {"vault_grace": true},
}

// setBlockPos records a block's header range and its name in messages
// once its body is decoded.
func setBlockPos(child reflect.Value, blk *hclsyntax.Block, name string) {
	pf := child.Elem().FieldByName("Pos")
	if !pf.IsValid() {
		return
	}
	pos := pf.Interface().(Pos)
	pos.Block, pos.name = blk.DefRange(), name
	pf.Set(reflect.ValueOf(pos))
}

// decodeLabels sets a block's label field; it reports false when the
// labels are wrong (and says so).
func (p *parser) decodeLabels(blk *hclsyntax.Block, child reflect.Value, ctxName string) bool {
	var label *field
	for _, f := range fieldsOf(child.Elem().Type()) {
		if f.kind == "label" {
			f := f
			label = &f
		}
	}
	switch {
	case label == nil && len(blk.Labels) > 0:
		p.errorf(blk.LabelRanges[0].Ptr(), "%s: a %s block takes no label; found %q", ctxName, blk.Type, blk.Labels[0])
		return false
	case label == nil:
		return true
	case len(blk.Labels) > 1:
		p.errorf(blk.LabelRanges[1].Ptr(), "%s: a %s block takes one label (its %s); found %d", ctxName, blk.Type, label.name, len(blk.Labels))
		return false
	case len(blk.Labels) == 0 && !label.optional:
		p.errorf(blk.DefRange().Ptr(), "%s: a %s block needs a label: its %s, e.g. %s %q {", ctxName, blk.Type, label.name, blk.Type, exampleLabel[blk.Type])
		return false
	case len(blk.Labels) == 1:
		child.Elem().Field(label.index).SetString(blk.Labels[0])
	}
	return true
}

var exampleLabel = map[string]string{"task": "web", "auth": "approle", "vault": "default"}

// blockName names a nested block for messages; n counts the blocks of
// its type in its parent, from 1. A template is named once, here, and
// validation reuses the name (Pos.name): the same template reads the
// same in every message.
func (p *parser) blockName(parent string, blk *hclsyntax.Block, n int) string {
	name := blk.Type
	switch {
	case len(blk.Labels) > 0:
		name += " " + strconv.Quote(blk.Labels[0])
	case blk.Type == "vault" && parent == "":
		name += " " + strconv.Quote(DefaultCluster) // an agent vault block
	}
	if blk.Type == "template" {
		dest := ""
		if attr, ok := blk.Body.Attributes["destination"]; ok {
			// Its problems are reported when it is decoded.
			if v, diags := p.eval(attr.Expr); !diags.HasErrors() {
				if s, ok := asString(v); ok {
					dest = canonicalPath("", s)
				}
			}
		}
		name = templateName(n, dest)
	}
	return name
}

// joinContext is a nested block's context in messages.
func joinContext(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + ", " + name
}

// unknown reports an attribute or block the schema does not know, with a
// suggestion when one is close.
func (p *parser) unknown(rng hcl.Range, ctxName, what, name string, candidates []string, isOtherKind bool) {
	where := ctxName
	if where == "" {
		where = "the top level"
	}
	summary := fmt.Sprintf("%s: unknown %s %q", ctxName, what, name)
	if ctxName == "" {
		summary = fmt.Sprintf("unknown %s %q at the top level", what, name)
	}
	var detail string
	switch {
	case isOtherKind && what == "argument":
		detail = fmt.Sprintf("%q is a block here: write %s { … }", name, name)
	case isOtherKind:
		detail = fmt.Sprintf("%q is an argument here: write %s = …", name, name)
	default:
		if s := suggest(name, candidates); s != "" {
			detail = fmt.Sprintf("did you mean %q?", s)
		} else if len(candidates) > 0 {
			sorted := append([]string(nil), candidates...)
			sort.Strings(sorted)
			detail = fmt.Sprintf("%s accepts: %s", where, strings.Join(sorted, ", "))
		}
	}
	p.diags = append(p.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()})
}

// sortedAttrs returns a body's attributes in source order (the map has
// none).
func sortedAttrs(body *hclsyntax.Body) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
	for _, a := range body.Attributes {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SrcRange.Start.Byte < out[j].SrcRange.Start.Byte })
	return out
}
