package vaultauth

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tmplrun/tmplrun/template"
)

// Every HCL example in docs/vault.md is a valid configuration, and every
// agent vault block in it is accepted by New (auth method, TLS files
// aside).
func TestVaultDocExamplesParse(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/vault.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 8 {
		t.Fatalf("found %d HCL examples, want the agent block, five auth methods, the task block and the identity setup", len(blocks))
	}
	for i, b := range blocks {
		src := b[1]
		name := filepath.Join(t.TempDir(), "example.hcl")
		cfg, err := template.Parse(name, []byte(src), nil)
		if err != nil {
			t.Errorf("example %d does not parse:\n%s\n%v", i+1, src, err)
			continue
		}
		for _, v := range cfg.Vaults {
			if v.Identity != nil || v.CAFile != "" || v.CertFile != "" {
				continue // needs files that exist
			}
			if _, err := New(v, Options{Getenv: func(string) string { return "" }}); err != nil && !strings.Contains(err.Error(), "no such file") {
				t.Errorf("example %d: New: %v", i+1, err)
			}
		}
	}
}
