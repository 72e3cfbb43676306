package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/config", map[string]any{"greeting": "rendered-once"})
	cfg := s.config(t, s.taskBlock(nil, `
  template {
    data        = "greeting={{ with secret \"secret/data/web/config\" }}{{ .Data.data.greeting }}{{ end }}"
    destination = "local/app.conf"
  }
  template {
    data        = "static"
    destination = "local/static.txt"
  }
`))

	t.Run("dry run prints and writes nothing", func(t *testing.T) {
		p := tmplrun(t, s.env(), "render", "-dry-run", cfg)
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit %d: %s", code, p.stderr.String())
		}
		want := "==> web: local/app.conf <==\ngreeting=rendered-once\n==> web: local/static.txt <==\nstatic\n"
		if got := p.stdout.String(); got != want {
			t.Errorf("stdout = %q, want %q", got, want)
		}
		if _, err := os.Stat(s.taskDir()); !os.IsNotExist(err) {
			t.Errorf("dry run created the task dir: %v", err)
		}
	})
	t.Run("render writes the files and no token", func(t *testing.T) {
		p := tmplrun(t, s.env(), "render", cfg)
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit %d: %s", code, p.stderr.String())
		}
		if got := readFile(t, filepath.Join(s.taskDir(), "local/app.conf")); got != "greeting=rendered-once" {
			t.Errorf("app.conf = %q", got)
		}
		if _, err := os.Stat(filepath.Join(s.taskDir(), "secrets/vault_token")); !os.IsNotExist(err) {
			t.Errorf("render left a token file: %v", err)
		}
		if strings.Contains(p.stderr.String(), "rendered-once") {
			t.Error("the secret value appears in render's log")
		}
	})
	t.Run("a missing secret fails with its name", func(t *testing.T) {
		bad := s.config(t, s.taskBlock(nil, `
  template {
    data        = "{{ with secret \"secret/data/web/nope\" }}{{ .Data.data.x }}{{ end }}"
    destination = "local/nope.conf"
  }
`))
		p := tmplrun(t, s.env(), "render", "-timeout", "2s", bad)
		if code := p.wait(t); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if !strings.Contains(p.stderr.String(), "vault.read(secret/data/web/nope)") {
			t.Errorf("the error does not name the missing secret:\n%s", p.stderr.String())
		}
	})
}

func TestInvalidConfigStartsNothing(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	cfg := s.config(t, s.taskBlock(nil, `
  template {
    data        = "{{ plugin \"/bin/sh\" \"-c\" \"touch pwned\" }}"
    destination = "local/a"
  }
  template {
    data        = "x"
    destination = "../escape"
    change_mode = "reboot"
  }
`))
	// A task dir from an earlier run: it stays exactly as it is.
	old := filepath.Join(s.taskDir(), "local", "a")
	if err := os.MkdirAll(filepath.Dir(old), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, []byte("from before"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(old)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"run", "render", "validate"} {
		p := tmplrun(t, s.env(), cmd, cfg)
		if code := p.wait(t); code != 1 {
			t.Errorf("%s: exit %d, want 1", cmd, code)
		}
		for _, want := range []string{`function "plugin" is denied`, `climbs out of the task dir`, `change_mode "reboot"`, "3 errors"} {
			if !strings.Contains(p.stderr.String(), want) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd, want, p.stderr.String())
			}
		}
	}
	if entries, _ := os.ReadDir(s.dir); len(entries) != 2 {
		t.Errorf("an invalid config wrote files: %v (want only tmplrun.hcl and web/)", entries)
	}
	if entries, _ := os.ReadDir(s.taskDir()); len(entries) != 1 {
		t.Errorf("an invalid config created task dirs: %v (want only local/)", entries)
	}
	after, err := os.Stat(old)
	if err != nil || readFile(t, old) != "from before" || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("an invalid config touched an existing file: %v", err)
	}
}

// A Nomad jobspec runs as it is: group-level vault block, raw_exec
// command, ${NOMAD_SECRETS_DIR} destination, env template, variables.
func TestNomadJobspec(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.v.WriteKV("web/db", map[string]any{"password": "jobspec-pass"})
	job := `
variable "kv" {
  default = "secret/data/web"
}

job "shop" {
  datacenters = ["dc1"]

  group "api" {
    count = 3

    vault {
      policies = ["web"]
    }

    task "server" {
      driver = "raw_exec"

      config {
        command = "` + testtaskBin + `"
        args    = ["-read", "${NOMAD_SECRETS_DIR}/db.env"]
      }

      env {
        TESTTASK_OUT = "` + s.out + `"
      }

      template {
        data        = <<EOT
{{ with secret "${var.kv}/db" }}DB_PASSWORD={{ .Data.data.password }}{{ end }}
EOT
        destination = "${NOMAD_SECRETS_DIR}/db.env"
        env         = true
      }

      resources {
        cpu = 100
      }
    }
  }
}
`
	path := filepath.Join(s.dir, "shop.nomad.hcl")
	if err := os.WriteFile(path, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(s.env(), "VAULT_ADDR="+s.v.Addr)

	p := tmplrun(t, env, "render", "-dry-run", path)
	if code := p.wait(t); code != 0 {
		t.Fatalf("render: exit %d: %s", code, p.stderr.String())
	}
	if want := "==> api/server: secrets/db.env <==\nDB_PASSWORD=jobspec-pass\n"; p.stdout.String() != want {
		t.Errorf("render -dry-run = %q, want %q", p.stdout.String(), want)
	}

	p = tmplrun(t, env, "run", path)
	eventually(t, "the jobspec's task to start", func() bool { return count(records(s.out), "start") == 1 })
	start, _ := lastStart(records(s.out))
	taskDir := filepath.Join(s.dir, "shop", "api", "server")
	if start.Env["DB_PASSWORD"] != "jobspec-pass" || start.Env["NOMAD_SECRETS_DIR"] != filepath.Join(taskDir, "secrets") {
		t.Errorf("env DB_PASSWORD=%q NOMAD_SECRETS_DIR=%q", start.Env["DB_PASSWORD"], start.Env["NOMAD_SECRETS_DIR"])
	}
	if got := start.Files[filepath.Join(taskDir, "secrets/db.env")]; got != "DB_PASSWORD=jobspec-pass\n" {
		t.Errorf("the process read %q from ${NOMAD_SECRETS_DIR}/db.env", got)
	}
}
