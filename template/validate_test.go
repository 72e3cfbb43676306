package template

import (
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// agent is a valid agent vault block every case starts from.
const agent = `
vault {
  auth "token" {}
}
`

func task(body string) string { return agent + "task \"web\" {\n" + body + "\n}\n" }

func tmpl(body string) string { return task("template {\n" + body + "\n}") }

// TestValidationRules checks each rule with a failing case and its passing
// neighbour: want is a substring of the only error, or "" for valid.
func TestValidationRules(t *testing.T) {
	t.Parallel()
	abs := t.TempDir()
	cases := []struct {
		name, src, want string
	}{
		// source xor data
		{"source and data", tmpl(`source = "local/a.tpl"
data = "x"
destination = "local/a"`), "set source or data, not both"},
		{"neither source nor data", tmpl(`destination = "local/a"`), "set source (a template file in the task dir) or data"},
		{"data only", tmpl(`data = "x"
destination = "local/a"`), ""},

		// destination
		{"destination missing", tmpl(`data = "x"`), "destination is required"},
		{"destination escapes", tmpl(`data = "x"
destination = "../a"`), `climbs out of the task dir`},
		{"destination absolute outside", tmpl(`data = "x"
destination = "/etc/a"`), `is not inside the task dir`},
		{"destination absolute inside", task(`dir = "` + abs + `"
template {
  data = "x"
  destination = "` + filepath.Join(abs, "local/a") + `"
}`), ""},
		{"destination nomad var", tmpl(`data = "x"
destination = "${NOMAD_SECRETS_DIR}/a"`), ""},
		{"destination unknown var", tmpl(`data = "x"
destination = "${NOMAD_ALLOC_ID}/a"`), `cannot resolve`},
		{"destination nomad var escapes", tmpl(`data = "x"
destination = "${NOMAD_TASK_DIR}/../../a"`), `climbs out of the task dir`},
		{"same destination", task(`template {
  data = "x"
  destination = "local/a"
}
template {
  data = "y"
  destination = "${NOMAD_TASK_DIR}/a"
}`), "writes the same destination"},
		{"different destinations", task(`template {
  data = "x"
  destination = "local/a"
}
template {
  data = "y"
  destination = "local/b"
}`), ""},

		// change modes
		{"change_mode unknown", tmpl(`data = "x"
destination = "local/a"
change_mode = "reboot"`), `change_mode "reboot" is not one of noop, restart, signal, script`},
		{"change_mode noop", tmpl(`data = "x"
destination = "local/a"
change_mode = "noop"`), ""},
		{"signal unknown", tmpl(`data = "x"
destination = "local/a"
change_mode = "signal"
change_signal = "SIGFOO"`), `change_signal "SIGFOO" is not a signal on this system`},
		{"signal lower case short", tmpl(`data = "x"
destination = "local/a"
change_mode = "signal"
change_signal = "usr1"`), ""},
		{"signal default", tmpl(`data = "x"
destination = "local/a"
change_mode = "signal"`), ""},
		{"env with signal", tmpl(`data = "x"
destination = "local/a"
env = true
change_mode = "signal"`), "an env template cannot use change_mode = \"signal\""},
		{"env with restart", tmpl(`data = "x"
destination = "local/a"
env = true`), ""},
		{"script without change_script", tmpl(`data = "x"
destination = "local/a"
change_mode = "script"`), `needs a change_script block with a command`},
		{"script with empty command", tmpl(`data = "x"
destination = "local/a"
change_mode = "script"
change_script {
  command = ""
}`), `needs a change_script block with a command`},
		{"script negative timeout", tmpl(`data = "x"
destination = "local/a"
change_mode = "script"
change_script {
  command = "/bin/true"
  timeout = "-1s"
}`), `timeout must be positive`},
		{"script", tmpl(`data = "x"
destination = "local/a"
change_mode = "script"
change_script {
  command = "/bin/true"
  timeout = "2s"
}`), ""},

		// perms, splay, wait
		{"perms not octal", tmpl(`data = "x"
destination = "local/a"
perms = "0999"`), `is not a 12-bit octal mode`},
		{"perms too wide", tmpl(`data = "x"
destination = "local/a"
perms = "17777"`), `is not a 12-bit octal mode`},
		{"perms setgid", tmpl(`data = "x"
destination = "local/a"
perms = "2640"`), ""},
		{"splay negative", tmpl(`data = "x"
destination = "local/a"
splay = "-1s"`), "splay must not be negative"},
		{"splay zero", tmpl(`data = "x"
destination = "local/a"
splay = "0s"`), ""},
		{"splay not a duration", tmpl(`data = "x"
destination = "local/a"
splay = 5`), `splay = 5 is not a duration`},
		{"wait min above max", tmpl(`data = "x"
destination = "local/a"
wait {
  min = "10s"
  max = "1s"
}`), "max (1s) is less than min (10s)"},
		{"wait ordered", tmpl(`data = "x"
destination = "local/a"
wait {
  min = "1s"
  max = "10s"
}`), ""},
		{"wait outside bounds", `template_config {
  wait_bounds {
    min = "2s"
    max = "1m"
  }
}` + tmpl(`data = "x"
destination = "local/a"
wait {
  min = "1s"
  max = "10s"
}`), "min (1s) is below template_config wait_bounds min (2s)"},
		{"wait inside bounds", `template_config {
  wait_bounds {
    min = "1s"
    max = "1m"
  }
}` + tmpl(`data = "x"
destination = "local/a"
wait {
  min = "1s"
  max = "10s"
}`), ""},
		{"delimiters equal", tmpl(`data = "x"
destination = "local/a"
left_delimiter = "%%"
right_delimiter = "%%"`), "they must differ"},

		// template text
		{"text syntax error", tmpl(`data = "{{ if }}"
destination = "local/a"`), `template line 1: missing value for if`},
		{"text unknown function", tmpl(`data = <<EOT
line one
{{ nosuchfunc "x" }}
EOT
destination = "local/a"`), `template line 2: function "nosuchfunc" is not defined`},
		{"text denied function", tmpl(`data = "{{ plugin \"x\" }}"
destination = "local/a"`), `function "plugin" is denied by function_denylist`},
		{"text denylist emptied", `template_config {
  function_denylist = []
}` + tmpl(`data = "{{ plugin \"x\" }}"
destination = "local/a"`), ""},
		{"text denylist glob", `template_config {
  function_denylist = ["sprig_*"]
}` + tmpl(`data = "{{ \"a\" | sprig_upper }}"
destination = "local/a"`), `function "sprig_upper" is denied`},
		{"text custom delimiters", task(`vault {
  policies = ["a"]
}
template {
  data = "[[ secret \"a\" ]] {{ not a template }}"
  destination = "local/a"
  left_delimiter = "[["
  right_delimiter = "]]"
}`), ""},
		{"text consul-template functions", task(`vault {
  policies = ["a"]
}
template {
  data = "{{ with secret \"secret/data/a\" }}{{ .Data.data.x | toJSON }}{{ end }}{{ env \"HOME\" }}{{ timestamp }}{{ file \"local/x\" }}"
  destination = "local/a"
}`), ""},

		// task vault block
		{"vault policies and role", task(`vault {
  policies = ["a"]
  role = "r"
}`), "set policies or role, not both"},
		{"vault neither", task(`vault {
  change_mode = "noop"
}`), "set policies (a child token"},
		{"vault root policy", task(`vault {
  policies = ["root"]
}`), "the root policy is never given to a task"},
		{"vault unknown cluster", task(`vault {
  policies = ["a"]
  cluster = "eu"
}`), `cluster "eu" is not defined`},
		{"vault change_mode script", task(`vault {
  policies = ["a"]
  change_mode = "script"
}`), `change_mode "script" is not one of noop, restart, signal`},
		{"vault signal without signal", task(`vault {
  policies = ["a"]
  change_mode = "signal"
}`), `change_mode = "signal" needs change_signal`},
		{"vault signal", task(`vault {
  policies = ["a"]
  change_mode = "signal"
  change_signal = "SIGHUP"
}`), ""},
		{"vault role without identity", task(`vault {
  role = "web"
}`), `has no identity block to sign one`},
		{"vault role with identity", `vault "eu" {
  auth "token" {}
  identity {
    signing_key_file = "/etc/tmplrun/wid.pem"
  }
}` + task(`vault {
  role = "web"
  cluster = "eu"
}`), ""},

		// agent vault blocks
		{"agent without auth", `vault {
  address = "http://127.0.0.1:8200"
}`, "needs exactly one auth block"},
		{"agent two auth", `vault {
  auth "token" {}
  auth "approle" {
    role_id_file = "r"
  }
}`, "only one auth block is allowed"},
		{"approle without role_id_file", `vault {
  auth "approle" {
    secret_id_file = "s"
  }
}`, "role_id_file is required"},
		{"approle", `vault {
  auth "approle" {
    role_id_file = "r"
    secret_id_file = "s"
  }
}`, ""},
		{"jwt without role", `vault {
  auth "jwt" {
    path = "/var/run/jwt"
  }
}`, "role is required"},
		{"field of another method", `vault {
  auth "token" {
    role_id_file = "r"
  }
}`, `role_id_file does not apply to auth "token"`},
		{"unknown method", `vault {
  auth "ldap" {}
}`, `unknown auth method "ldap"`},
		{"cert without files", `vault {
  auth "cert" {}
}`, `logs in with the vault block's cert_file and key_file`},
		{"cert file without key", `vault {
  cert_file = "c.pem"
  auth "cert" {}
}`, "cert_file and key_file go together"},
		{"two default clusters", `vault {
  auth "token" {}
}
vault "default" {
  auth "token" {}
}`, `a vault block named "default" is already defined`},
		{"identity without key", `vault {
  auth "token" {}
  identity {
    issuer = "me"
  }
}`, "signing_key_file is required"},

		// tasks
		{"duplicate task", agent + `task "web" {}
task "web" {
  dir = "other"
}`, "task names must be unique"},
		{"same dir", agent + `task "a" {
  dir = "x"
}
task "b" {
  dir = "x"
}`, `uses the same dir`},
		{"kill_timeout negative", task(`kill_timeout = "-1s"`), "kill_timeout must not be negative"},
		{"kill_signal unknown", task(`kill_signal = "SIGNOPE"`), `kill_signal "SIGNOPE" is not a signal`},
		{"args without command", task(`args = ["-x"]`), "args without a command"},
		{"command and args", task(`command = "/bin/true"
args = ["-x"]
env = { A = "1" }`), ""},

		// structure
		{"unknown attribute suggests", tmpl(`data = "x"
destination = "local/a"
chnage_mode = "noop"`), `unknown argument "chnage_mode" (did you mean "change_mode"?)`},
		{"abbreviated attribute suggests", tmpl(`data = "x"
destination = "local/a"
left_delim = "[["`), `(did you mean "left_delimiter"?)`},
		{"unknown block suggests", task(`templte {
  data = "x"
}`), `unknown block "templte" (did you mean "template"?)`},
		{"unknown top level block", `tasks "x" {}`, `unknown block "tasks" at the top level (did you mean "task"?)`},
		{"two vault blocks in a task", task(`vault {
  policies = ["a"]
}
vault {
  policies = ["b"]
}`), "only one vault block is allowed"},
		{"task without label", agent + `task {}`, `a task block needs a label`},
		{"block written as attribute", task(`vault = {}`), `"vault" is a block here`},
		{"retry attempts negative", `template_config {
  vault_retry {
    attempts = -1
  }
}`, "attempts must be 0 (retry forever) or more"},
		{"wrong type", task(`command = ["a"]`), "command must be a string, not a list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "tmplrun.hcl")
			filePos := regexp.MustCompile(`^` + regexp.QuoteMeta(file) + `:\d+:\d+: `)
			_, err := Parse(file, []byte(tc.src), nil)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				return
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("want an *Error containing %q, got %v", tc.want, err)
			}
			if perr.Errors() != 1 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want exactly one error containing %q, got %d:\n%v", tc.want, perr.Errors(), err)
			}
			// Every problem names its place: file:line:col.
			if !filePos.MatchString(err.Error()) {
				t.Errorf("error does not start with file:line:col: %v", err)
			}
		})
	}
}

func TestValidateInCode(t *testing.T) {
	t.Parallel()
	tm := NewTemplate()
	tm.Data = "x"
	tm.Destination = "../x"
	tk := NewTask("web")
	tk.Dir = t.TempDir()
	tk.Templates = []*Template{tm}
	cfg := &Config{Tasks: []*Task{tk}}
	cfg.Canonicalize()
	err := cfg.Validate()
	want := `task "web", template #1 (../x): destination: path is outside the task dir`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want it to start with %q", err, want)
	}
	tm.Destination = "local/x"
	if err := cfg.Validate(); err != nil {
		t.Errorf("fixed config: %v", err)
	}
}
