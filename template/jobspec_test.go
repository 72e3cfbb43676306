package template

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, name, src string, opts *Options) *Config {
	t.Helper()
	cfg, err := Parse(filepath.Join(t.TempDir(), name), []byte(src), opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

func TestJobspecInheritance(t *testing.T) {
	t.Parallel()
	src := `
variable "env" { default = "staging" }
locals { prefix = "secret/data/${var.env}" }
job "shop" {
  vault { policies = ["job-level"] }
  group "backend" {
    vault { policies = ["group-${var.env}"] }
    template {
      data        = "alloc=${NOMAD_ALLOC_ID} env=${var.env} lit=$${NOMAD_TASK_DIR} attr=${attr.kernel.name} meta=${meta.owner} e=${env["HOME"]}"
      destination = "local/shared.txt"
    }
    task "api" {
      driver = "raw_exec"
      config {
        command = "${NOMAD_TASK_DIR}/api"
        args    = ["-c", "${NOMAD_SECRETS_DIR}/api.env", "${local.prefix}"]
      }
      env { MODE = "${var.env}" }
      kill_signal  = "sigint"
      kill_timeout = "9s"
      template {
        data = <<-EOT
          {{ with secret "${local.prefix}/api" }}{{ .Data.data.token }}{{ end }}
          second line
        EOT
        destination = "${NOMAD_SECRETS_DIR}/api.env"
      }
    }
    task "cron" {
      driver = "docker"
      config { image = "x" }
      vault { policies = ["cron"] }
      template {
        data        = "overridden"
        destination = "local/shared.txt"
      }
    }
  }
}
`
	cfg := mustParse(t, "job.nomad.hcl", src, nil)
	if cfg.Format != FormatJobspec {
		t.Errorf("format = %q", cfg.Format)
	}
	if len(cfg.Tasks) != 2 {
		t.Fatalf("tasks = %d, want 2", len(cfg.Tasks))
	}
	api, cron := cfg.Tasks[0], cfg.Tasks[1]
	if api.Name != "backend/api" || cron.Name != "backend/cron" {
		t.Errorf("names = %q, %q", api.Name, cron.Name)
	}
	if !strings.HasSuffix(api.Dir, filepath.Join("shop", "backend", "api")) || !filepath.IsAbs(api.Dir) {
		t.Errorf("api dir = %q", api.Dir)
	}
	type got struct {
		Command     string
		Args        []string
		Env         map[string]string
		KillSignal  string
		KillTimeout time.Duration
		Policies    []string
		Dests       []string
		Data        []string
	}
	summarize := func(task *Task) got {
		g := got{Command: task.Command, Args: task.Args, Env: task.Env, KillSignal: task.KillSignal, KillTimeout: task.KillTimeout, Policies: task.Vault.Policies}
		for _, tm := range task.Templates {
			g.Dests = append(g.Dests, tm.Destination)
			g.Data = append(g.Data, tm.Data)
		}
		return g
	}
	wantAPI := got{
		Command:     "${NOMAD_TASK_DIR}/api",
		Args:        []string{"-c", "${NOMAD_SECRETS_DIR}/api.env", "secret/data/staging"},
		Env:         map[string]string{"MODE": "staging"},
		KillSignal:  "SIGINT",
		KillTimeout: 9 * time.Second,
		Policies:    []string{"group-staging"},
		Dests:       []string{"local/shared.txt", "secrets/api.env"},
		Data: []string{
			`alloc=${NOMAD_ALLOC_ID} env=staging lit=${NOMAD_TASK_DIR} attr=${attr.kernel.name} meta=${meta.owner} e=${env["HOME"]}`,
			"{{ with secret \"secret/data/staging/api\" }}{{ .Data.data.token }}{{ end }}\nsecond line\n",
		},
	}
	if diff := cmp.Diff(wantAPI, summarize(api)); diff != "" {
		t.Errorf("api (-want +got):\n%s", diff)
	}
	wantCron := got{
		KillSignal:  DefaultKillSignal,
		KillTimeout: DefaultKillTimeout,
		Policies:    []string{"cron"},
		Dests:       []string{"local/shared.txt"},
		Data:        []string{"overridden"},
	}
	if diff := cmp.Diff(wantCron, summarize(cron)); diff != "" {
		t.Errorf("cron (-want +got):\n%s", diff)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Summary, `driver "docker"`) {
		t.Errorf("warnings = %v, want one about the docker driver", cfg.Warnings)
	}
	// Inherited templates are copies: changing one task's does not change
	// the other's.
	api.Templates[0].Data = "changed"
	if cron.Templates[0].Data == "changed" {
		t.Error("tasks share an inherited template")
	}
}

func TestJobspecVariables(t *testing.T) {
	t.Parallel()
	src := `
variable "count" {
  type    = number
  default = 1
}
variable "name" {}
job "j" {
  group "g" {
    task "t" {
      template {
        data        = "${var.name} x${var.count}"
        destination = "local/out"
      }
    }
  }
}
`
	cfg := mustParse(t, "j.hcl", src, &Options{Vars: map[string]string{"name": "given", "count": "3"}})
	if got := cfg.Tasks[0].Templates[0].Data; got != "given x3" {
		t.Errorf("data = %q, want %q", got, "given x3")
	}

	_, err := Parse(filepath.Join(t.TempDir(), "j.hcl"), []byte(src), nil)
	if err == nil || !strings.Contains(err.Error(), `variable "name" has no default and no value was given`) {
		t.Errorf("missing value: err = %v", err)
	}
}

func TestJobspecUndefinedVariable(t *testing.T) {
	t.Parallel()
	src := `
job "j" {
  group "g" {
    task "t" {
      template {
        data        = "${var.nope}"
        destination = "local/out"
      }
    }
  }
}
`
	_, err := Parse(filepath.Join(t.TempDir(), "j.hcl"), []byte(src), nil)
	if err == nil || !strings.Contains(err.Error(), `j.hcl:6:26: undefined variable "nope"`) {
		t.Errorf("err = %v, want an undefined variable error at 6:26", err)
	}
	if n := err.(*Error).Errors(); n != 1 {
		t.Errorf("%d errors, want 1 (no follow-on errors):\n%v", n, err)
	}
}

func TestJobspecIgnoresOtherNomadBlocks(t *testing.T) {
	t.Parallel()
	src := `
job "j" {
  datacenters = ["dc1"]
  update { max_parallel = 1 }
  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }
  group "g" {
    count = 3
    network {
      port "http" {}
    }
    service {
      name = "web"
      check {
        type     = "http"
        interval = "10s"
      }
    }
    task "t" {
      driver = "exec"
      user   = "nobody"
      config {
        command = "/bin/true"
        args    = ["a"]
        pid_mode = "private"
      }
      resources { cpu = 100 }
      artifact { source = "https://example.com/x.tgz" }
      logs { max_files = 3 }
    }
  }
}
`
	cfg := mustParse(t, "j.hcl", src, nil)
	if got := cfg.Tasks[0]; got.Command != "/bin/true" || len(got.Args) != 1 {
		t.Errorf("task = %+v", got)
	}
}

func TestJobspecStrictTemplateAndVault(t *testing.T) {
	t.Parallel()
	src := `
job "j" {
  group "g" {
    task "t" {
      vault {
        policies = ["a"]
        polices  = ["b"]
      }
      template {
        data         = "x"
        destination  = "local/x"
        destinaton   = "local/y"
      }
    }
  }
}
`
	_, err := Parse(filepath.Join(t.TempDir(), "j.hcl"), []byte(src), nil)
	for _, want := range []string{`unknown argument "polices"`, `unknown argument "destinaton"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
}

// A task's template is named the same in every message, whether parsing
// or validation reports it, also when its group gives the task a template
// of its own.
func TestJobspecTemplateNamedOnce(t *testing.T) {
	t.Parallel()
	src := `
job "j" {
  group "g" {
    template {
      data        = "x"
      destination = "local/g"
    }
    task "t" {
      template {
        data        = "y"
        destination = "local/a"
        splay       = "5x"
        change_mode = "reboot"
      }
    }
  }
}
`
	_, err := Parse(filepath.Join(t.TempDir(), "j.hcl"), []byte(src), nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`j.hcl:12:23: task "g/t", template #1 (local/a): splay = "5x"`,        // reported by parsing
		`j.hcl:13:9: task "g/t", template #1 (local/a): change_mode "reboot"`, // by validation
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in:\n%v", want, err)
		}
	}
}
