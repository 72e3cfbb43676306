package template

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser and validator: they must
// never panic, and an accepted file must validate again after a second
// Canonicalize (defaults are idempotent). Seeds: every example and every
// golden test input, plus testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../examples/*/*.hcl", "../cmd/tmplrun/testdata/validate/*.hcl"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := Parse(filepath.Join(dir, "fuzz.hcl"), src, nil)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T, want *Error: %v", err, err)
			}
			if err.Error() == "" {
				t.Fatal("an *Error with no message")
			}
			return
		}
		cfg.Canonicalize()
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted, then invalid after a second Canonicalize: %v", err)
		}
	})
}
