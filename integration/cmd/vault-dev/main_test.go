package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/vault/api"
)

// TestRun starts vault-dev as `make dev` would (on a free port), uses
// what it seeded over HTTP as the examples will, and stops it.
func TestRun(t *testing.T) {
	credsDir := filepath.Join(t.TempDir(), "creds")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-creds-dir", credsDir}, pw, io.Discard)
		pw.Close()
		done <- err
	}()

	banner := map[string]string{}
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if k, v, ok := strings.Cut(line, ":"); ok && (k == "address" || k == "root token") {
			banner[k] = strings.TrimSpace(v)
		}
		if strings.HasPrefix(line, "export VAULT_ADDR=") {
			banner["export"] = line
		}
		if line == "Ctrl-C stops it." {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	addr, root := banner["address"], banner["root token"]
	if addr == "" || root == "" {
		t.Fatalf("banner lacks the address or root token: %v (run: %v)", banner, lines.Err())
	}
	if want := "export VAULT_ADDR=" + addr + " VAULT_TOKEN=" + root; banner["export"] != want {
		t.Errorf("export line = %q, want %q", banner["export"], want)
	}

	c, err := api.NewClient(&api.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(root)
	s, err := c.Logical().Read("secret/data/web/config")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Data["data"].(map[string]any)["greeting"]; got != "hello" {
		t.Errorf("secret/web/config greeting = %v, want hello", got)
	}

	// tmplrun logs in with the AppRole files and derives a web task token.
	roleID, _ := os.ReadFile(filepath.Join(credsDir, "role_id"))
	secretID, _ := os.ReadFile(filepath.Join(credsDir, "secret_id"))
	c.ClearToken()
	s, err = c.Logical().Write("auth/approle/login", map[string]any{
		"role_id": strings.TrimSpace(string(roleID)), "secret_id": strings.TrimSpace(string(secretID)),
	})
	if err != nil {
		t.Fatalf("AppRole login from the files: %v", err)
	}
	c.SetToken(s.Auth.ClientToken)
	s, err = c.Auth().Token().CreateWithRole(&api.TokenCreateRequest{Policies: []string{"web"}}, "tmplrun-task")
	if err != nil {
		t.Fatalf("derive a task token: %v", err)
	}
	if diff := cmp.Diff([]string{"default", "web"}, s.Auth.Policies); diff != "" {
		t.Errorf("task token policies (-want +got):\n%s", diff)
	}
	c.SetToken(s.Auth.ClientToken)
	if _, err := c.Logical().Read("secret/data/web/config"); err != nil {
		t.Errorf("task token reads secret/data/web/config: %v", err)
	}
	if _, err := c.Logical().Read("secret/data/db"); err == nil {
		t.Error("web task token reads secret/data/db")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return 30s after cancel")
	}
	if _, err := os.Stat(filepath.Join(credsDir, "secret_id")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("secret_id file left behind: %v", err)
	}
	if _, err := c.Sys().Health(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Vault after stop: err = %v, want connection refused", err)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr bool
	}{
		{name: "defaults", want: config{addr: "127.0.0.1:8200", logLevel: "warn"}},
		{
			name: "all",
			args: []string{"-addr", "127.0.0.1:8201", "-root-token", "root", "-creds-dir", "/tmp/c", "-log-level", "debug", "-database"},
			want: config{addr: "127.0.0.1:8201", rootToken: "root", credsDir: "/tmp/c", logLevel: "debug", database: true},
		},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: true},
		{name: "stray argument", args: []string{"extra"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}
