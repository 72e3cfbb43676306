package template

import (
	"fmt"
	"io/fs"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Attribute values: from an evaluated cty.Value into a model field of
// the decoder (decode.go), by the field's Go type, with messages that say
// what was expected and quote what was written.
// decodeAttr evaluates attr and stores it in dst according to dst's type.
// It reports false when the value could not be stored (and was reported,
// or came from a variable or local that was).
func (p *parser) decodeAttr(attr *hclsyntax.Attribute, dst reflect.Value, ctxName string) bool {
	n := len(p.diags)
	ok := p.decodeValue(attr, dst, ctxName)
	return ok && !p.diags[n:].HasErrors()
}

func (p *parser) decodeValue(attr *hclsyntax.Attribute, dst reflect.Value, ctxName string) bool {
	val, diags := p.eval(attr.Expr)
	p.diags = append(p.diags, diags...)
	if diags.HasErrors() || val.IsNull() || !val.IsWhollyKnown() {
		// Unknown values come only from a variable or local that already
		// failed, and was reported; null is as good as not written.
		return !diags.HasErrors() && val.IsNull()
	}
	rng := attr.Expr.Range().Ptr()
	bad := func(want string) {
		p.errorf(rng, "%s: %s must be %s, not %s", ctxName, attr.Name, want, friendlyType(val))
	}
	// shown is the value as the user wrote it: 5, not "5".
	shown := func(s string) string {
		if val.Type() == cty.String {
			return strconv.Quote(s)
		}
		return strings.TrimSpace(p.text(attr.Expr.Range()))
	}
	switch dst.Type() {
	case reflect.TypeFor[time.Duration](), reflect.TypeFor[*time.Duration]():
		s, ok := asString(val)
		if !ok {
			bad(`a duration string like "5s"`)
			return true
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			p.errorf(rng, "%s: %s = %s is not a duration; write it like \"250ms\", \"5s\" or \"1m30s\"", ctxName, attr.Name, shown(s))
			return true
		}
		if dst.Kind() == reflect.Pointer {
			dst.Set(reflect.ValueOf(&d))
		} else {
			dst.SetInt(int64(d))
		}
		return true
	case reflect.TypeFor[fs.FileMode]():
		s, ok := asString(val)
		if !ok {
			bad(`an octal string like "0644"`)
			return true
		}
		m, err := strconv.ParseUint(s, 8, 32)
		if err != nil || m > 0o7777 {
			p.errorf(rng, "%s: %s = %s is not a 12-bit octal mode; write it like \"0644\" or \"0600\"", ctxName, attr.Name, shown(s))
			return true
		}
		dst.SetUint(uint64(fileModeFromUnix(uint32(m))))
		return true
	}
	switch dst.Kind() {
	case reflect.String:
		s, ok := asString(val)
		if !ok {
			bad("a string")
			return true
		}
		dst.SetString(s)
	case reflect.Bool:
		b, err := convert.Convert(val, cty.Bool)
		if err != nil {
			bad("true or false")
			return true
		}
		dst.SetBool(b.True())
	case reflect.Int:
		n, ok := asInt(val)
		if !ok {
			bad("a whole number")
			return true
		}
		dst.SetInt(int64(n))
	case reflect.Pointer:
		elem := reflect.New(dst.Type().Elem())
		switch dst.Type().Elem().Kind() {
		case reflect.Bool:
			b, err := convert.Convert(val, cty.Bool)
			if err != nil {
				bad("true or false")
				return true
			}
			elem.Elem().SetBool(b.True())
		case reflect.Int:
			n, ok := asInt(val)
			if !ok {
				bad("a whole number")
				return true
			}
			elem.Elem().SetInt(int64(n))
		}
		dst.Set(elem)
	case reflect.Slice:
		list, err := convert.Convert(val, cty.List(cty.String))
		if err != nil || list.IsNull() {
			bad("a list of strings")
			return true
		}
		out := make([]string, 0, list.LengthInt())
		for it := list.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				bad("a list of strings (without null)")
				return true
			}
			out = append(out, e.AsString())
		}
		dst.Set(reflect.ValueOf(out))
	case reflect.Map:
		m, err := convert.Convert(val, cty.Map(cty.String))
		if err != nil || m.IsNull() {
			bad("a map of strings")
			return true
		}
		out := map[string]string{}
		for it := m.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if e.IsNull() {
				bad("a map of strings (without null)")
				return true
			}
			out[k.AsString()] = e.AsString()
		}
		dst.Set(reflect.ValueOf(out))
	default:
		panic(fmt.Sprintf("template: no decoder for %s", dst.Type()))
	}
	return true
}

// fileModeFromUnix turns 12-bit Unix mode bits into an fs.FileMode.
func fileModeFromUnix(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

func asString(v cty.Value) (string, bool) {
	if v == cty.NilVal || v.IsNull() || !v.IsWhollyKnown() {
		return "", false
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() || !s.IsKnown() {
		return "", false
	}
	return s.AsString(), true
}

func asInt(v cty.Value) (int, bool) {
	if v == cty.NilVal || v.IsNull() || !v.IsWhollyKnown() {
		return 0, false
	}
	n, err := convert.Convert(v, cty.Number)
	if err != nil || n.IsNull() {
		return 0, false
	}
	bf := n.AsBigFloat()
	if !bf.IsInt() {
		return 0, false
	}
	i, acc := bf.Int64()
	if acc != 0 || i > 1<<31-1 || i < -(1<<31) {
		return 0, false
	}
	return int(i), true
}

func friendlyType(v cty.Value) string {
	t := v.Type()
	switch {
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "a bool"
	case t.IsTupleType() || t.IsListType() || t.IsSetType():
		return "a list"
	case t.IsObjectType() || t.IsMapType():
		return "an object"
	}
	return t.FriendlyName()
}
