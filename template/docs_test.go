package template

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestConfigDocCoversModel fails when a field of the model has no row in
// docs/config.md, in the section of its block.
func TestConfigDocCoversModel(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := splitSections(string(doc))
	blocks := []struct {
		heading string
		typ     reflect.Type
	}{
		{"Top level", reflect.TypeFor[Config]()},
		{"`vault` (agent)", reflect.TypeFor[VaultCluster]()},
		{"`auth`", reflect.TypeFor[Auth]()},
		{"`identity`", reflect.TypeFor[Identity]()},
		{"`template_config`", reflect.TypeFor[TemplateConfig]()},
		{"`vault_retry`", reflect.TypeFor[Retry]()},
		{"`wait`", reflect.TypeFor[Wait]()},
		{"`task`", reflect.TypeFor[Task]()},
		{"`vault` (task)", reflect.TypeFor[Vault]()},
		{"`template`", reflect.TypeFor[Template]()},
		{"`change_script`", reflect.TypeFor[ChangeScript]()},
	}
	for _, b := range blocks {
		body, ok := sections[b.heading]
		if !ok {
			t.Errorf("docs/config.md has no section %q (for %s)", b.heading, b.typ.Name())
			continue
		}
		for _, f := range fieldsOf(b.typ) {
			if !strings.Contains(body, "| `"+f.name+"` |") {
				t.Errorf("docs/config.md section %q has no row for %q (%s.%s)", b.heading, f.name, b.typ.Name(), b.typ.Field(f.index).Name)
			}
		}
	}
}

// splitSections maps each markdown heading's text to the text under it.
func splitSections(doc string) map[string]string {
	out := map[string]string{}
	current := ""
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "#") {
			current = strings.TrimSpace(strings.TrimLeft(line, "#"))
			continue
		}
		out[current] += line + "\n"
	}
	return out
}
