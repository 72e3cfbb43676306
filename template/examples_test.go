package template

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamplesValidate parses every configuration under examples/: each
// must be valid as shipped.
func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	var files []string
	err := filepath.WalkDir("../examples", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".hcl") && !strings.Contains(path, "/templates/") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d example configs, want at least 5: %v", len(files), files)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			cfg, err := ParseFile(file, nil)
			if err != nil {
				t.Fatalf("%s is not valid:\n%v", file, err)
			}
			if len(cfg.Tasks) == 0 {
				t.Errorf("%s defines no tasks", file)
			}
		})
	}
}
