package template

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Error is every problem found in a configuration, with where each is.
// Error() gives one line per problem ("file:line:col: message"); Write
// adds the source line under each, for people.
type Error struct {
	Diagnostics hcl.Diagnostics
	files       map[string][]byte // sources already in memory, by name
}

// Error lists the errors (not the warnings), one per line.
func (e *Error) Error() string {
	var b strings.Builder
	for _, d := range e.Diagnostics {
		if d.Severity != hcl.DiagError {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(oneLine(d))
	}
	return b.String()
}

// Errors is the number of errors (warnings excluded).
func (e *Error) Errors() int {
	n := 0
	for _, d := range e.Diagnostics {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

// oneLine formats a diagnostic as "file:line:col: summary (detail)".
func oneLine(d *hcl.Diagnostic) string {
	var b strings.Builder
	if d.Subject != nil && d.Subject.Filename != "" {
		fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString(" (" + d.Detail + ")")
	}
	return b.String()
}

// Write prints every diagnostic — errors and warnings — compiler style:
//
//	web.hcl:12:19: error: task "web", template "local/a": change_mode "reboot" is not one of …
//	   12 |     change_mode = "reboot"
//	      |                   ^^^^^^^^
//	      = did you mean "restart"?
func (e *Error) Write(w io.Writer) error {
	return WriteDiagnostics(w, e.Diagnostics, e.files)
}

// WriteDiagnostics prints diagnostics as Error.Write does; sources are
// taken from files, or read from disk when missing there.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, files map[string][]byte) error {
	bw := bufio.NewWriter(w)
	cache := map[string][]string{}
	lines := func(name string) []string {
		if l, ok := cache[name]; ok {
			return l
		}
		src, ok := files[name]
		if !ok {
			src, _ = os.ReadFile(name)
		}
		l := strings.Split(string(bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))), "\n")
		cache[name] = l
		return l
	}
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		loc := ""
		if s := d.Subject; s != nil && s.Filename != "" {
			loc = fmt.Sprintf("%s:%d:%d: ", s.Filename, s.Start.Line, s.Start.Column)
		}
		fmt.Fprintf(bw, "%s%s: %s\n", loc, sev, d.Summary)
		if s := d.Subject; s != nil && s.Filename != "" {
			writeSnippet(bw, lines(s.Filename), s)
		}
		if d.Detail != "" {
			fmt.Fprintf(bw, "      = %s\n", d.Detail)
		}
	}
	return bw.Flush()
}

// writeSnippet prints the subject's first line with a caret underline.
func writeSnippet(w io.Writer, lines []string, r *hcl.Range) {
	n := r.Start.Line
	if n < 1 || n > len(lines) {
		return
	}
	text := strings.ReplaceAll(lines[n-1], "\t", " ")
	fmt.Fprintf(w, "%5d | %s\n", n, text)
	start := r.Start.Column
	if start < 1 {
		start = 1
	}
	end := len(text) + 1
	switch {
	case r.End.Line == n && r.End.Column > start:
		end = r.End.Column
	case r.End == r.Start && start <= len(text):
		// A point: underline the word there.
		end = start
		for end <= len(text) && !strings.ContainsRune(" \t}){(\"", rune(text[end-1])) {
			end++
		}
	}
	if start > len(text)+1 {
		start = len(text) + 1
	}
	if end > len(text)+1 {
		end = len(text) + 1
	}
	width := end - start
	if width < 1 {
		width = 1
	}
	fmt.Fprintf(w, "      | %s%s\n", strings.Repeat(" ", start-1), strings.Repeat("^", width))
}
