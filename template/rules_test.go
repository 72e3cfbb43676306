package template

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// withVault is a task with a vault block whose templates follow.
func withVault(templates string) string {
	return task("vault {\n  policies = [\"app\"]\n}\n" + templates)
}

// TestRules checks rules with a failing case and a passing neighbour, and
// where each problem is reported: want is a substring of the only
// diagnostic of its kind (an error, or with warn a warning of a valid
// file), at is its file:line:col ("" file: the config file itself).
func TestRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src string
		files     map[string]string // written under the config file's dir first
		want      string
		at        string // line:col, or file:line:col for another file
		warn      bool
	}{
		// Template-text positions.
		{name: "quoted: after a \\n escape", src: tmpl(`data = "a\n{{ nosuch }}"
destination = "local/a"`), want: `template line 2: function "nosuch" is not defined`, at: "7:15"},
		{name: "quoted: after \\\" escapes", src: tmpl(`data = "x \"y\" {{ nosuch }}"
destination = "local/a"`), want: `function "nosuch"`, at: "7:20"},
		{name: "quoted: after a \\u escape and a multibyte rune", src: tmpl(`data = "é\u00e9 {{ nosuch }}"
destination = "local/a"`), want: `function "nosuch"`, at: "7:20"},
		{name: "quoted: after $${", src: tmpl(`data = "$${x} {{ nosuch }}"
destination = "local/a"`), want: `function "nosuch"`, at: "7:18"},
		{name: "quoted: syntax error on line 2", src: tmpl(`data = "ok\n{{ if }}"
destination = "local/a"`), want: `template line 2: missing value for if`, at: "7:13"},
		{name: "quoted: after an evaluated interpolation", src: "locals {\n  p = \"abcdef\"\n}\n" + tmpl(`data = "${local.p} {{ nosuch }}"
destination = "local/a"`), want: `function "nosuch"`, at: "10:23"},
		{name: "heredoc <<-: stripped indent", src: tmpl(`data = <<-EOT
    line one
    {{ nosuch }}
    EOT
destination = "local/a"`), want: `template line 2: function "nosuch"`, at: "9:8"},
		{name: "heredoc <<-: blank line and deeper indent", src: tmpl(`data = <<-EOT
  one

      {{ nosuch }}
  EOT
destination = "local/a"`), want: `template line 3: function "nosuch"`, at: "10:10"},
		{name: "heredoc <<: syntax error", src: tmpl(`data = <<EOT
one
  {{ end }}
EOT
destination = "local/a"`), want: `template line 2: unexpected {{end}}`, at: "9:1"},
		{name: "source file", files: map[string]string{"web/local/a.tpl": "ok\n  {{ nosuch }}\n"}, src: tmpl(`source = "local/a.tpl"
destination = "local/a"`), want: `template line 2: function "nosuch"`, at: "web/local/a.tpl:2:6"},
		{name: "source file, first line", files: map[string]string{"web/local/a.tpl": "{{ if }}"}, src: tmpl(`source = "local/a.tpl"
destination = "local/a"`), want: `template line 1: missing value for if`, at: "web/local/a.tpl:1:1"},
		{name: "source file valid", files: map[string]string{"web/local/a.tpl": "ok {{ env \"A\" }}\n"}, src: tmpl(`source = "local/a.tpl"
destination = "local/a"`)},
		{name: "data = file()", files: map[string]string{"a.tpl": "x\n{{ nosuch }}"}, src: tmpl(`data = file("a.tpl")
destination = "local/a"`), want: `template line 2: function "nosuch"`, at: "a.tpl:2:4"},
		{name: "data from a local", src: "locals {\n  t = \"{{ nosuch }}\"\n}\n" + tmpl(`data = local.t
destination = "local/a"`), want: `template line 1: function "nosuch"`, at: "10:8"},

		// {{ define }}, {{ block }}, {{ template }}.
		{name: "denied function in define", src: tmpl(`data = "{{ define \"x\" }}{{ plugin \"a\" }}{{ end }}{{ template \"x\" }}"
destination = "local/a"`), want: `function "plugin" is denied`, at: "7:30"},
		{name: "unknown function in block", src: tmpl(`data = "{{ block \"b\" . }}{{ nosuch }}{{ end }}"
destination = "local/a"`), want: `function "nosuch" is not defined`, at: "7:31"},
		{name: "template not defined", src: tmpl(`data = "{{ template \"nope\" }}"
destination = "local/a"`), want: `template "nope" is not defined`, at: "7:21"},
		{name: "template defined", src: tmpl(`data = "{{ define \"x\" }}{{ . }}{{ end }}{{ template \"x\" \"y\" }}{{ block \"b\" . }}z{{ end }}{{ template \"b\" }}"
destination = "local/a"`)},

		// Empty source, data, destination; no follow-on errors.
		{name: "data empty", src: tmpl(`data = ""
destination = "local/a"`), want: "data is empty", at: "7:1"},
		{name: "data null", src: tmpl(`data = null
destination = "local/a"`), want: "data is empty", at: "7:1"},
		{name: "source empty", src: tmpl(`source = ""
destination = "local/a"`), want: "source is empty", at: "7:1"},
		{name: "destination empty", src: tmpl(`data = "x"
destination = ""`), want: "destination is empty", at: "8:1"},
		{name: "destination undefined variable: one error", src: tmpl(`data = "x"
destination = var.nope`), want: `undefined variable "nope"`, at: "8:15"},
		{name: "data undefined variable: one error", src: tmpl(`data = var.nope
destination = "local/a"`), want: `undefined variable "nope"`, at: "7:8"},
		{name: "data a list: one error", src: tmpl(`data = ["x"]
destination = "local/a"`), want: `data must be a string, not a list`, at: "7:8"},

		// Zero values that mean nothing.
		{name: "change_script timeout zero", src: tmpl(`data = "x"
destination = "local/a"
change_mode = "script"
change_script {
  command = "/bin/true"
  timeout = "0s"
}`), want: "timeout must be positive, not 0s", at: "12:3"},
		{name: "vault_retry backoff zero", src: "template_config {\n  vault_retry {\n    backoff = \"0s\"\n  }\n}\n" + agent,
			want: "backoff must be positive, not 0s", at: "3:5"},
		{name: "vault_retry max_backoff zero", src: "template_config {\n  vault_retry {\n    max_backoff = \"0s\"\n  }\n}\n" + agent,
			want: "max_backoff must be positive, not 0s", at: "3:5"},
		{name: "vault_default_lease_duration zero", src: "template_config {\n  vault_default_lease_duration = \"0s\"\n}\n" + agent,
			want: "vault_default_lease_duration must be positive, not 0s", at: "2:3"},
		{name: "identity ttl zero", src: "vault {\n  auth \"token\" {}\n  identity {\n    signing_key_file = \"k.pem\"\n    ttl = \"0s\"\n  }\n}\n",
			want: "ttl must be positive, not 0s", at: "5:5"},
		{name: "vault_retry backoff positive", src: "template_config {\n  vault_retry {\n    backoff = \"1s\"\n    max_backoff = \"2s\"\n  }\n  vault_default_lease_duration = \"1m\"\n}\n" + agent},
		{name: "identity ttl positive", src: "vault {\n  auth \"token\" {}\n  identity {\n    signing_key_file = \"k.pem\"\n    ttl = \"10m\"\n  }\n}\n"},
		{name: "first_render_timeout zero", src: "template_config {\n  first_render_timeout = \"0s\"\n}\n" + task("")},

		// Nomad runtime variables in %{ } directives.
		{name: "if tests a runtime variable", src: tmpl(`data = "%{ if attr.kernel.name == "linux" }x%{ endif }"
destination = "local/a"`), want: `%{ if } depends on ${attr.kernel.name}`, at: "7:15"},
		{name: "for over a runtime variable", src: tmpl(`data = "%{ for m in meta.hosts }${m}%{ endfor }"
destination = "local/a"`), want: `%{ for } depends on ${meta.hosts}`, at: "7:21"},
		{name: "if tests a variable", src: "variable \"on\" {\n  default = true\n}\n" + tmpl(`data = "%{ if var.on }${attr.x}%{ endif }"
destination = "local/a"`)},
		{name: "directive with runtime variables inside", src: tmpl(`data = "%{ if true }${NOMAD_TASK_DIR}/x{{ nosuch }}%{ endif }"
destination = "local/a"`), want: `function "nosuch" is not defined`, at: "7:9"},

		// Destinations that are not files of the task.
		{name: "destination is the local dir", src: tmpl(`data = "x"
destination = "local"`), want: "is the task dir's local directory", at: "8:1"},
		{name: "destination is the secrets dir", src: tmpl(`data = "x"
destination = "${NOMAD_SECRETS_DIR}/"`), want: "is the task dir's secrets directory", at: "8:1"},
		{name: "destination is alloc", src: tmpl(`data = "x"
destination = "alloc/"`), want: "alloc directory", at: "8:1"},
		{name: "destination in tmp", src: tmpl(`data = "x"
destination = "tmp/a"`)},
		{name: "destination is the token file", src: withVault(`template {
  data = "x"
  destination = "secrets/vault_token"
}`), want: "is where tmplrun writes the task's Vault token", at: "11:3"},
		{name: "token file with disable_file", src: task(`vault {
  policies = ["app"]
  disable_file = true
}
template {
  data = "x"
  destination = "secrets/vault_token"
}`)},
		{name: "token file without a vault block", src: tmpl(`data = "x"
destination = "secrets/vault_token"`)},

		// Vault functions need a vault block.
		{name: "secret without a vault block", src: tmpl(`data = "{{ with secret \"kv/data/a\" }}{{ .Data.data.x }}{{ end }}"
destination = "local/a"`), want: `function "secret" reads Vault, but the task has no vault block`, at: "7:17"},
		{name: "pkiCert without a vault block", src: tmpl(`data = <<EOT
{{ with pkiCert "pki/issue/a" "common_name=a" }}{{ .Cert }}{{ end }}
EOT
destination = "local/a"`), want: `function "pkiCert" reads Vault`, at: "8:9"},
		{name: "secret with a vault block", src: withVault(`template {
  data = "{{ with secret \"kv/data/a\" }}{{ .Data.data.x }}{{ end }}{{ range secrets \"kv/metadata\" }}{{ . }}{{ end }}"
  destination = "local/a"
}`)},

		// Messages.
		{name: "undefined local suggests", src: "locals {\n  port = 80\n}\n" + task(`env = { P = local.prot }`), want: `undefined local "prot" (did you mean local.port?)`, at: "9:13"},
		{name: "undefined local without a near name", src: "locals {\n  port = 80\n}\n" + task(`env = { P = local.zzzzzz }`), want: `undefined local "zzzzzz" (define it in a locals block`, at: "9:13"},
		{name: "local refers to itself", src: "locals {\n  a = local.a\n}\n" + task(""), want: `local "a" refers to itself`, at: "2:3"},
		{name: "number as written", src: tmpl(`data = "x"
destination = "local/a"
splay = 10`), want: `splay = 10 is not a duration`, at: "9:9"},
		{name: "durations as written", src: tmpl(`data = "x"
destination = "local/a"
wait {
  min = "2m"
  max = "90s"
}`), want: `max (90s) is less than min (2m)`, at: "11:3"},
		{name: "perms number as written", src: tmpl(`data = "x"
destination = "local/a"
perms = 999`), want: `perms = 999 is not a 12-bit octal mode`, at: "9:9"},
		{name: "template by number and destination", src: task(`template {
  data = "x"
  destination = "local/a"
}
template {
  data = "y"
  destination = "${NOMAD_SECRETS_DIR}/b"
  chnage_mode = "noop"
}`), want: `task "web", template #2 (secrets/b): unknown argument "chnage_mode"`, at: "13:3"},
		{name: "template by number in validation", src: task(`template {
  data = "x"
  destination = "local/a"
}
template {
  data = "y"
  destination = "${NOMAD_SECRETS_DIR}/b"
  change_mode = "reboot"
}`), want: `task "web", template #2 (secrets/b): change_mode "reboot"`, at: "13:3"},
		{name: "agent vault block named default", src: "vault {\n  auth \"token\" {}\n  adress = \"http://x\"\n}\n",
			want: `vault "default": unknown argument "adress" (did you mean "address"?)`, at: "3:3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, text := range tc.files {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			file := filepath.Join(dir, "tmplrun.hcl")
			cfg, err := Parse(file, []byte(tc.src), nil)
			var diags hcl.Diagnostics
			var perr *Error
			switch {
			case tc.want == "" || tc.warn:
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				if tc.want == "" {
					return
				}
				diags = cfg.Warnings
			case !errors.As(err, &perr):
				t.Fatalf("want an *Error containing %q, got %v", tc.want, err)
			default:
				for _, d := range perr.Diagnostics {
					if d.Severity == hcl.DiagError {
						diags = append(diags, d)
					}
				}
			}
			if len(diags) != 1 {
				t.Fatalf("want one diagnostic containing %q, got %d:\n%s", tc.want, len(diags), lines(diags))
			}
			got := oneLine(diags[0])
			at := filepath.Join(dir, tc.at)
			if strings.Count(tc.at, ":") == 1 {
				at = file + ":" + tc.at
			}
			if !strings.HasPrefix(got, at+": ") || !strings.Contains(got, tc.want) {
				t.Errorf("got  %s\nwant %s: …%s…", got, at, tc.want)
			}
		})
	}
}

func lines(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(oneLine(d) + "\n")
	}
	return b.String()
}

// TestDirectivesKeepRuntimeVariables: %{ for } and %{ if } evaluate with
// var and local, and Nomad's runtime variables inside them stay as written.
func TestDirectivesKeepRuntimeVariables(t *testing.T) {
	t.Parallel()
	src := `variable "servers" {
  default = ["a", "b"]
}
` + tmpl(`data = <<EOT
%{ for i, s in var.servers ~}
server ${i} ${s} ${NOMAD_TASK_DIR}/x ${attr.unique.hostname}
%{ endfor ~}
%{ if length(var.servers) > 1 }many ${NOMAD_ALLOC_DIR}%{ else }one%{ endif }
EOT
destination = "local/a"`)
	cfg, err := Parse(filepath.Join(t.TempDir(), "tmplrun.hcl"), []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "server 0 a ${NOMAD_TASK_DIR}/x ${attr.unique.hostname}\n" +
		"server 1 b ${NOMAD_TASK_DIR}/x ${attr.unique.hostname}\n" +
		"many ${NOMAD_ALLOC_DIR}\n"
	if diff := cmp.Diff(want, cfg.Tasks[0].Templates[0].Data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}

// TestJobspecNearMisses: a name close to a Nomad field is a warning with a
// suggestion; real Nomad fields and unrelated names are not.
func TestJobspecNearMisses(t *testing.T) {
	t.Parallel()
	src := `job "j" {
  datacenters = ["dc1"]
  typ = "service"
  group "g" {
    count = 1
    network {
      port "http" {}
    }
    restrt {
      attempts = 2
    }
    task "t" {
      drivr        = "raw_exec"
      kill_timout  = "3s"
      driver       = "docker"
      resources {
        cpu = 100
      }
      service {
        name = "x"
      }
      lifecycle {
        hook = "prestart"
      }
      templte {
        data = "x"
      }
      template {
        data        = "x"
        destination = "local/a"
      }
    }
  }
}
`
	cfg, err := Parse(filepath.Join(t.TempDir(), "job.nomad.hcl"), []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range cfg.Warnings {
		if strings.Contains(d.Summary, "is ignored") {
			got = append(got, d.Summary+" "+d.Detail)
		}
	}
	want := []string{
		`job "j": unknown argument "typ" is ignored did you mean "type"?`,
		`job "j", group "g": unknown block "restrt" is ignored did you mean "restart"?`,
		`task "g/t": unknown argument "drivr" is ignored did you mean "driver"?`,
		`task "g/t": unknown argument "kill_timout" is ignored did you mean "kill_timeout"?`,
		`task "g/t": unknown block "templte" is ignored did you mean "template"?`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("near-miss warnings (-want +got):\n%s", diff)
	}
}

// TestZeroValues: a zero the user writes is kept where it means
// something; fields not written, and Configs built in Go, get defaults.
func TestZeroValues(t *testing.T) {
	t.Parallel()
	src := task(`command = "/bin/true"
kill_timeout = "0s"
template {
  data        = "x"
  destination = "local/a"
  perms       = "0000"
  splay       = "0s"
}
template {
  data        = "y"
  destination = "local/b"
  change_mode = "script"
  change_script {
    command = "/bin/true"
  }
}`)
	cfg, err := Parse(filepath.Join(t.TempDir(), "tmplrun.hcl"), []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	tk := cfg.Tasks[0]
	type zero struct {
		KillTimeout, Splay0, Splay1, ScriptTimeout, Backoff, Lease string
		Perms0, Perms1                                             string
	}
	view := func(tk *Task, tc *TemplateConfig) zero {
		z := zero{
			KillTimeout: tk.KillTimeout.String(),
			Splay0:      tk.Templates[0].Splay.String(), Perms0: tk.Templates[0].Perms.String(),
			Backoff: tc.VaultRetry.Backoff.String(), Lease: tc.VaultDefaultLeaseDuration.String(),
		}
		if len(tk.Templates) > 1 {
			z.Splay1, z.Perms1 = tk.Templates[1].Splay.String(), tk.Templates[1].Perms.String()
			z.ScriptTimeout = tk.Templates[1].ChangeScript.Timeout.String()
		}
		return z
	}
	want := zero{KillTimeout: "0s", Splay0: "0s", Perms0: "----------", Splay1: "5s", Perms1: "-rw-r--r--", ScriptTimeout: "5s", Backoff: "250ms", Lease: "5m0s"}
	if diff := cmp.Diff(want, view(tk, cfg.TemplateConfig)); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}

	// Built in Go: every zero is a default.
	tm := &Template{Data: "x", Destination: "local/a", ChangeMode: ChangeModeScript, ChangeScript: &ChangeScript{Command: "/bin/true"}}
	tm2 := &Template{Data: "y", Destination: "local/b"}
	code := &Config{Tasks: []*Task{{Name: "web", Templates: []*Template{tm2, tm}}}}
	code.Canonicalize()
	if err := code.Validate(); err != nil {
		t.Fatal(err)
	}
	want = zero{KillTimeout: "5s", Splay0: "0s", Perms0: "-rw-r--r--", Splay1: "0s", Perms1: "-rw-r--r--", ScriptTimeout: "5s", Backoff: "250ms", Lease: "5m0s"}
	if diff := cmp.Diff(want, view(code.Tasks[0], code.TemplateConfig)); diff != "" {
		t.Errorf("built in Go (-want +got):\n%s", diff)
	}
}

// TestDefaults: what a file leaves out gets the documented defaults, in
// one place (defaults.go), the same whether parsed or built in Go.
func TestDefaults(t *testing.T) {
	t.Parallel()
	src := `vault {
  auth "approle" {
    role_id_file = "r"
  }
  identity {
    signing_key_file = "k.pem"
  }
}
task "web" {
  vault {
    policies = ["app"]
  }
  template {
    data        = "x"
    destination = "local/a"
    change_mode = "signal"
  }
  template {
    data        = "y"
    destination = "local/b"
    change_mode = "script"
    change_script {
      command = "/bin/true"
    }
    wait {
      min = "2s"
    }
  }
}
`
	type view struct {
		KillSignal, KillTimeout                        string
		ChangeMode, ChangeSignal, Splay, Perms, Delims string
		ScriptTimeout, WaitMax                         string
		VaultCluster, VaultChangeMode                  string
		VaultEnv                                       bool
		Retry, Wait, Lease, FirstRender                string
		Deny                                           []string
		AuthMount, IDIssuer, IDTTL, IDMount            string
		IDAudience                                     []string
	}
	see := func(c *Config) view {
		tk := c.Tasks[0]
		t0, t1 := tk.Templates[0], tk.Templates[1]
		tc := c.TemplateConfig
		v := c.Cluster(DefaultCluster)
		return view{
			KillSignal: tk.KillSignal, KillTimeout: tk.KillTimeout.String(),
			ChangeMode: t1.ChangeMode, ChangeSignal: t0.ChangeSignal, Splay: t0.Splay.String(), Perms: t0.Perms.String(),
			Delims:        t0.LeftDelimiter + t0.RightDelimiter,
			ScriptTimeout: t1.ChangeScript.Timeout.String(), WaitMax: t1.Wait.Max.String(),
			VaultCluster: tk.Vault.Cluster, VaultChangeMode: tk.Vault.ChangeMode, VaultEnv: tk.Vault.EnvEnabled(),
			Retry: fmt.Sprintf("%d %s %s", tc.VaultRetry.Attempts, tc.VaultRetry.Backoff, tc.VaultRetry.MaxBackoff),
			Wait:  fmt.Sprintf("%s %s", *tc.Wait.Min, *tc.Wait.Max), Lease: tc.VaultDefaultLeaseDuration.String(),
			FirstRender: tc.FirstRenderTimeout.String(), Deny: tc.FunctionDenylist,
			AuthMount: v.Auth.Mount, IDIssuer: v.Identity.Issuer, IDTTL: v.Identity.TTL.String(), IDMount: v.Identity.Mount,
			IDAudience: v.Identity.Audience,
		}
	}
	want := view{
		KillSignal: "SIGTERM", KillTimeout: "5s",
		ChangeMode: "script", ChangeSignal: "SIGHUP", Splay: "5s", Perms: "-rw-r--r--", Delims: "{{}}",
		ScriptTimeout: "5s", WaitMax: "8s",
		VaultCluster: "default", VaultChangeMode: "restart", VaultEnv: true,
		Retry: "0 250ms 1m0s", Wait: "5s 4m0s", Lease: "5m0s", FirstRender: "0s",
		Deny:      []string{"plugin", "writeToFile", "executeTemplate"},
		AuthMount: "approle", IDIssuer: "tmplrun", IDTTL: "1h0m0s", IDMount: "jwt", IDAudience: []string{"vault.io"},
	}
	cfg, err := Parse(filepath.Join(t.TempDir(), "tmplrun.hcl"), []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, see(cfg)); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}

	// The same blocks built in Go, from zero values.
	min := 2 * time.Second
	code := &Config{
		Vaults: []*VaultCluster{{Auth: &Auth{Method: AuthAppRole, RoleIDFile: "/r"}, Identity: &Identity{SigningKeyFile: "/k.pem"}}},
		Tasks: []*Task{{Name: "web", Vault: &Vault{Policies: []string{"app"}}, Templates: []*Template{
			{Data: "x", Destination: "local/a", ChangeMode: ChangeModeSignal, Splay: DefaultSplay},
			{Data: "y", Destination: "local/b", ChangeMode: ChangeModeScript, ChangeScript: &ChangeScript{Command: "/bin/true"}, Wait: &Wait{Min: &min}},
		}}},
	}
	code.Canonicalize()
	if err := code.Validate(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, see(code)); diff != "" {
		t.Errorf("built in Go (-want +got):\n%s", diff)
	}
}
