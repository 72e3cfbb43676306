package template

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, text, left, right string
		deny                    []string
		want                    []TextProblem
	}{
		{"valid", `{{ with secret "a" }}{{ .Data.data.x }}{{ end }}`, "{{", "}}", nil, nil},
		{"builtins and sprig", `{{ printf "%s" (env "A") | sprig_upper }}{{ if and true (eq 1 1) }}x{{ end }}`, "{{", "}}", nil, nil},
		{"syntax", "a\nb {{ end }}", "{{", "}}", nil, []TextProblem{{Line: 2, Message: "unexpected {{end}}"}}},
		{"unknown function once", "{{ nope }}\n{{ nope }}", "{{", "}}", nil, []TextProblem{{Line: 1, Column: 4, Message: `function "nope" is not defined`}}},
		{"denied", "x\n  {{ writeToFile \"a\" \"b\" \"c\" \"d\" }}", "{{", "}}", DefaultFunctionDenylist, []TextProblem{{Line: 2, Column: 6, Message: `function "writeToFile" is denied by function_denylist`}}},
		{"denied glob", `{{ sprig_env "A" }}`, "{{", "}}", []string{"sprig_*"}, []TextProblem{{Line: 1, Column: 4, Message: `function "sprig_env" is denied by function_denylist`}}},
		{"custom delimiters", `[[ key "a" ]] {{ .Literal }}`, "[[", "]]", nil, nil},
		{"wrong delimiters", `[[ key "a" ]]`, "<%", "%>", nil, nil},
		{"define and template", `{{ define "x" }}{{ . }}{{ end }}{{ template "x" "y" }}`, "{{", "}}", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := CheckText(tc.text, tc.left, tc.right, tc.deny)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("CheckText (-want +got):\n%s", diff)
			}
		})
	}
}
