package template

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// benchConfig is a config file of tasks × templates, each template a
// heredoc reading one of 50 secrets, as the integration bench renders.
func benchConfig(tasks, templates int) []byte {
	var b strings.Builder
	b.WriteString("vault {\n  address = \"http://127.0.0.1:8200\"\n  create_from_role = \"task\"\n  auth \"token\" {}\n}\n")
	for i := 0; i < tasks; i++ {
		fmt.Fprintf(&b, "task \"t%04d\" {\n  vault {\n    policies = [\"bench\"]\n  }\n", i)
		for j := 0; j < templates; j++ {
			fmt.Fprintf(&b, "  template {\n    destination = \"local/f%04d.conf\"\n    change_mode = \"noop\"\n    data = <<EOT\n# t%04d\n{{ with secret \"secret/data/bench/s%04d\" }}value={{ .Data.data.value }}{{ end }}\nEOT\n  }\n", j, i, (i*templates+j)%50)
		}
		b.WriteString("}\n")
	}
	return []byte(b.String())
}

// BenchmarkParse is `tmplrun validate` (and the start of run and
// render) of a large config: decode, canonicalize, validate, check every
// template's text.
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct{ tasks, templates int }{{1, 500}, {1, 2000}, {1000, 3}} {
		src := benchConfig(c.tasks, c.templates)
		path := filepath.Join(b.TempDir(), "tmplrun.hcl")
		b.Run(fmt.Sprintf("%dtasks-%dtpl", c.tasks, c.templates), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Parse(path, src, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
