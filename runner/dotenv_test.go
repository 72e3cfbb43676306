package runner

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDotenv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want map[string]string
	}{
		{"plain pairs", "A=1\nB=two\n", map[string]string{"A": "1", "B": "two"}},
		{"no trailing newline, CRLF", "A=1\r\nB=2", map[string]string{"A": "1", "B": "2"}},
		{"blank lines and comments", "# header\n\n  # indented\nA=1\n", map[string]string{"A": "1"}},
		{"export prefix", "export A=1\nexport  B=2\n", map[string]string{"A": "1", "B": "2"}},
		{"a variable named export", "export=1\n", map[string]string{"export": "1"}},
		{"spaces around =", "A = 1\n", map[string]string{"A": "1"}},
		{"empty value", "A=\nB=\"\"\n", map[string]string{"A": "", "B": ""}},
		{"inline comment after blank", "A=1 # one\nB=x#y\n", map[string]string{"A": "1", "B": "x#y"}},
		{"trailing blanks trimmed", "A=1   \t\n", map[string]string{"A": "1"}},
		{"single quotes are literal", `A='a $B \n # not a comment'` + "\n", map[string]string{"A": `a $B \n # not a comment`}},
		{"double quotes understand escapes", `A="line1\nline2\t\"q\" \\ \$"` + "\n", map[string]string{"A": "line1\nline2\t\"q\" \\ $"}},
		{"double quotes span lines", "A=\"one\ntwo\"\nB=3\n", map[string]string{"A": "one\ntwo", "B": "3"}},
		{"comment after a quoted value", `A="x" # c` + "\n", map[string]string{"A": "x"}},
		{"= inside a value", "URL=postgres://u:p@h/db?x=1\n", map[string]string{"URL": "postgres://u:p@h/db?x=1"}},
		{"later wins", "A=1\nA=2\n", map[string]string{"A": "2"}},
		{"empty input", "", map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseDotenv([]byte(tc.src))
			if err != nil {
				t.Fatalf("parseDotenv: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDotenvErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		wantErr string
	}{
		{"a line without =", "A=1\nhunter2\n", "line 2: not a KEY=VALUE line (no =)"},
		{"a bad name", "1A=x\n", "line 1: not a KEY=VALUE line (names are letters, digits and _, not starting with a digit)"},
		{"an unclosed quote", "A=1\nB=\"hunter2\n", `line 2: value of B: missing closing "`},
		{"text after a closing quote", "A='hunter2' tail\n", "line 1: value of A: unexpected text after the closing '"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseDotenv([]byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tc.wantErr, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the value: %v", err)
			}
		})
	}
}
