package runner

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	dep "github.com/hashicorp/consul-template/dependency"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	rd := newRedactor([]string{"hunter2", "s3cr3t-token", "abc", "hunter2-long"})
	tests := []struct {
		name, in, want string
	}{
		{"a known value anywhere", "password is hunter2 here", "password is [redacted] here"},
		{"the longest known value first", "x hunter2-long y", "x [redacted] y"},
		{"short known values are left (too common)", "abc def", "abc def"},
		{
			"a value quoted by a function, even one never seen",
			`template: :1:40: executing "" at <parseInt>: error calling parseInt: strconv.ParseInt: parsing "HUNTER2": invalid syntax`,
			`template: :1:40: executing "" at <parseInt>: error calling parseInt: strconv.ParseInt: parsing "[redacted]": invalid syntax`,
		},
		{
			"quotes with escapes and backquotes",
			"error calling parseYAML: yaml: cannot unmarshal !!str `pa\"ss` into x and \"a\\\"b\"",
			"error calling parseYAML: yaml: cannot unmarshal !!str `[redacted]` into x and \"[redacted]\"",
		},
		{
			"range prints the value bare",
			`template: :1:8: executing "" at <.Data.data.pw>: range can't iterate over Hunter3`,
			`template: :1:8: executing "" at <.Data.data.pw>: range can't iterate over [redacted]`,
		},
		{
			"the template's own text before the call is kept",
			`template: :3:14: executing "" at <.Data.data.password>: map has no entry for key "password"`,
			`template: :3:14: executing "" at <.Data.data.password>: map has no entry for key "password"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, rd.redact(tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSecretValues(t *testing.T) {
	t.Parallel()
	s := &dep.Secret{
		Data: map[string]any{
			"data":     map[string]any{"password": "hunter2", "port": json.Number("5432"), "list": []any{"item-one"}},
			"metadata": map[string]any{"version": json.Number("3")},
		},
		Auth: &dep.SecretAuth{ClientToken: "hvs.child", Accessor: "acc-1"},
	}
	got := map[string]bool{}
	for _, v := range secretValues(s, nil) {
		got[v] = true
	}
	for _, want := range []string{"hunter2", "5432", "item-one", "3", "hvs.child", "acc-1"} {
		if !got[want] {
			t.Errorf("secretValues misses %q (got %v)", want, got)
		}
	}
	if vals := secretValues([]string{"key-a"}, nil); len(vals) != 0 {
		t.Errorf("a list of keys is not secret, got %v", vals)
	}
}
