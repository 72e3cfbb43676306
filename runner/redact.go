package runner

import (
	"cmp"
	"slices"
	"strings"

	dep "github.com/hashicorp/consul-template/dependency"
)

// redacted replaces a secret value in a message.
const redacted = "[redacted]"

// minRedactLen is the shortest known value replaced wherever it appears:
// replacing "1" or "on" everywhere would mangle messages beyond use.
// Shorter values are still caught by the quoting rule below.
const minRedactLen = 4

// redactor scrubs secret values from messages before they reach events,
// status or logs. Two rules:
//
//  1. every known value (Vault secret data, tokens, the task's environment
//     values) of at least minRedactLen bytes is replaced wherever it
//     appears;
//  2. in the part of a template error that a function produced ("error
//     calling parseInt: …"), and after "range can't iterate over", every
//     quoted span is replaced, whatever it holds: functions quote the
//     value they choked on, which may be a secret transformed beyond
//     recognition (toUpper, trimSpace…).
type redactor struct {
	r *strings.Replacer
}

func newRedactor(values []string) redactor {
	vs := slices.DeleteFunc(slices.Clone(values), func(v string) bool { return len(v) < minRedactLen })
	if len(vs) == 0 {
		return redactor{}
	}
	// Longest first, so that a value containing another is replaced whole.
	slices.SortFunc(vs, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	vs = slices.Compact(vs)
	pairs := make([]string, 0, 2*len(vs))
	for _, v := range vs {
		pairs = append(pairs, v, redacted)
	}
	return redactor{r: strings.NewReplacer(pairs...)}
}

func (rd redactor) redact(msg string) string {
	if rd.r != nil {
		msg = rd.r.Replace(msg)
	}
	return redactCalls(msg)
}

// callMarkers start the parts of a text/template error that may quote a
// value.
var callMarkers = []string{"error calling ", "range can't iterate over "}

func redactCalls(msg string) string {
	for _, m := range callMarkers {
		i := strings.Index(msg, m)
		if i < 0 {
			continue
		}
		head, tail := msg[:i+len(m)], msg[i+len(m):]
		if m == callMarkers[0] {
			// Keep the function's name: "error calling parseInt: …".
			if j := strings.Index(tail, ": "); j >= 0 {
				head, tail = head+tail[:j+2], tail[j+2:]
			}
		} else {
			// range prints the value unquoted: drop it all.
			return head + redacted
		}
		msg = head + redactQuoted(tail)
	}
	return msg
}

// redactQuoted replaces the contents of "…", '…' and `…` spans.
func redactQuoted(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		q := s[i]
		if q != '"' && q != '\'' && q != '`' {
			b.WriteByte(q)
			continue
		}
		end := closingQuote(s, i+1, q)
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteByte(q)
		b.WriteString(redacted)
		b.WriteByte(q)
		i = end
	}
	return b.String()
}

func closingQuote(s string, from int, q byte) int {
	for j := from; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if q == '"' {
				j++
			}
		case q:
			return j
		}
	}
	return -1
}

// secretValues collects the values worth redacting from a dependency's
// data as the brain holds it.
func secretValues(data any, out []string) []string {
	switch v := data.(type) {
	case *dep.Secret:
		if v == nil {
			return out
		}
		out = leafStrings(v.Data, out)
		if v.Auth != nil {
			out = append(out, v.Auth.ClientToken, v.Auth.Accessor)
		}
		if v.WrapInfo != nil {
			out = append(out, v.WrapInfo.Token)
		}
	case dep.PemEncoded:
		out = append(out, v.Key, v.Cert)
	}
	return out
}

func leafStrings(v any, out []string) []string {
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case map[string]any:
		for _, e := range x {
			out = leafStrings(e, out)
		}
	case []any:
		for _, e := range x {
			out = leafStrings(e, out)
		}
	case interface{ String() string }: // json.Number
		out = append(out, x.String())
	}
	return out
}
