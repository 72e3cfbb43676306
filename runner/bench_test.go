package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tmplrun/tmplrun/template"
)

// benchTemplates are n templates with every change mode in turn.
func benchTemplates(n int) []*template.Template {
	modes := []string{template.ChangeModeRestart, template.ChangeModeSignal, template.ChangeModeScript, template.ChangeModeNoop}
	ts := make([]*template.Template, n)
	for i := range ts {
		t := template.NewTemplate()
		t.Destination = fmt.Sprintf("local/f%04d.conf", i)
		t.Data = fmt.Sprintf(`{{ with secret "secret/data/s%04d" }}{{ .Data.data.v }}{{ end }}`, i)
		t.ChangeMode = modes[i%len(modes)]
		if t.ChangeMode == template.ChangeModeSignal {
			t.ChangeSignal = []string{"SIGHUP", "SIGUSR1"}[i/len(modes)%2]
		}
		if t.ChangeMode == template.ChangeModeScript {
			t.ChangeScript = &template.ChangeScript{Command: fmt.Sprintf("./reload-%d", i%3)}
		}
		t.Canonicalize()
		ts[i] = t
	}
	return ts
}

// BenchmarkPlanChanges is the change planner on a batch of changed
// templates, with and without a restart among them.
func BenchmarkPlanChanges(b *testing.B) {
	for _, c := range []struct {
		name      string
		templates int
		changed   int
		noRestart bool
	}{
		{"3of3", 3, 3, false},
		{"10of500", 500, 10, false},
		{"500of500", 500, 500, false},
		{"250of500-signals-scripts", 500, 250, true},
	} {
		ts := benchTemplates(c.templates)
		var changes []change
		for i := 0; len(changes) < c.changed && i < len(ts); i++ {
			if c.noRestart && ts[i].ChangeMode == template.ChangeModeRestart {
				continue
			}
			changes = append(changes, change{template: i})
		}
		in := planInput{templates: ts, changes: changes, running: true, rand: 0.5}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p, _ := planChanges(in, planState{})
				if !p.act() {
					b.Fatal("nothing to do")
				}
			}
		})
	}
}

// BenchmarkParseDotenv parses an env template's output.
func BenchmarkParseDotenv(b *testing.B) {
	for _, n := range []int{10, 200} {
		var src strings.Builder
		src.WriteString("# generated\n")
		for i := 0; i < n; i++ {
			switch i % 3 {
			case 0:
				fmt.Fprintf(&src, "KEY_%d=plain-value-%d\n", i, i)
			case 1:
				fmt.Fprintf(&src, "export KEY_%d=\"quoted \\\"value\\\" %d\\n\" # comment\n", i, i)
			default:
				fmt.Fprintf(&src, "KEY_%d='single quoted %d'\n", i, i)
			}
		}
		in := []byte(src.String())
		b.Run(fmt.Sprintf("%dvars", n), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				env, err := parseDotenv(in)
				if err != nil || len(env) != n {
					b.Fatalf("%d vars, %v", len(env), err)
				}
			}
		})
	}
}

// BenchmarkNew builds a runner (defaults, task dir, every template parsed
// with the runner's functions, stale temporary files looked for): the
// per-task cost of starting a task before any request. The task dir holds
// the templates' files already (a restore), all in one directory.
func BenchmarkNew(b *testing.B) {
	for _, n := range []int{3, 500, 2000} {
		ts := benchTemplates(n)
		b.Run(fmt.Sprintf("%dtpl", n), func(b *testing.B) {
			b.ReportAllocs()
			dir := b.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "local"), 0o755); err != nil {
				b.Fatal(err)
			}
			for _, t := range ts {
				if err := os.WriteFile(filepath.Join(dir, t.Destination), []byte("v"), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := New(Config{Task: "bench", Dir: dir, Templates: ts,
					VaultCluster: &template.VaultCluster{Name: "default", Address: "http://127.0.0.1:8200"}})
				if err != nil {
					b.Fatal(err)
				}
				r.Stop()
			}
		})
	}
}
