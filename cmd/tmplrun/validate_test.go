package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestValidateGolden runs `tmplrun validate` on each file in
// testdata/validate and compares what a user sees — stdout, stderr and the
// exit code — with its .golden file. Run with -update to rewrite them.
func TestValidateGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/validate/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"validate", file}, &stdout, &stderr)
			got := "exit " + strconv.Itoa(code) + "\n--- stdout\n" + stdout.String() + "--- stderr\n" + stderr.String()
			golden := strings.TrimSuffix(file, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestValidateSevenMistakes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"validate", "testdata/validate/seven-mistakes.hcl"}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if n := strings.Count(stderr.String(), ": error: "); n != 7 {
		t.Errorf("%d errors printed, want 7:\n%s", n, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout not empty: %q", stdout.String())
	}
}

func TestValidateWritesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tmplrun.hcl")
	src := "vault {\n  auth \"token\" {}\n}\ntask \"web\" {\n  template {\n    data = \"x\"\n    destination = \"local/x\"\n  }\n}\n"
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"validate", cfg}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("validate created files: %v", entries)
	}
}

func TestValidateUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"validate"}, &stdout, &stderr); code != 2 {
		t.Errorf("no file: exit %d, want 2", code)
	}
	if code := run([]string{"validate", "does-not-exist.hcl"}, &stdout, &stderr); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
	if code := run([]string{"frobnicate"}, &stdout, &stderr); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

// TestValidateFlagsAfterFile: flags may follow FILE, as in
// `tmplrun validate job.nomad.hcl -var image=x`.
func TestValidateFlagsAfterFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "job.hcl")
	src := "variable \"dest\" {\n  default = \"../out\"\n}\nvault {\n  auth \"token\" {}\n}\ntask \"web\" {\n  template {\n    data = \"x\"\n    destination = var.dest\n  }\n}\n"
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"default is invalid", []string{"validate", cfg}, 1},
		{"flag before FILE", []string{"validate", "-var", "dest=local/out", cfg}, 0},
		{"flag after FILE", []string{"validate", cfg, "-var", "dest=local/out"}, 0},
		{"flag after FILE with =", []string{"validate", cfg, "-var=dest=local/out"}, 0},
		{"two files", []string{"validate", cfg, cfg}, 2},
		{"unknown flag after FILE", []string{"validate", cfg, "-nope"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	var names []string
	for _, l := range lines {
		name, value, _ := strings.Cut(l, " v")
		if strings.HasPrefix(l, "tmplrun ") {
			name, value = "tmplrun", strings.TrimPrefix(l, "tmplrun ")
		}
		if strings.HasPrefix(l, "go ") {
			name, value = "go", strings.TrimPrefix(l, "go ")
		}
		if value == "" || strings.Contains(value, "unknown") {
			t.Errorf("line %q has no version", l)
		}
		names = append(names, name)
	}
	if diff := cmp.Diff([]string{"tmplrun", "consul-template", "vault api", "go"}, names); diff != "" {
		t.Errorf("version lines (-want +got):\n%s\n%s", diff, stdout.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: %q", stderr.String())
	}
}
