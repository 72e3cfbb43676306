package vaultauth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/hashicorp/vault/api"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	resp := func(code int) error {
		return &api.ResponseError{StatusCode: code, HTTPMethod: "PUT", URL: "http://v/v1/x"}
	}
	tests := []struct {
		name string
		err  error
		want failure
	}{
		{"403 permission denied", resp(403), failHard},
		{"400 bad claims", resp(400), failHard},
		{"404 no such mount", resp(404), failHard},
		{"429 rate limited", resp(429), failSoft},
		{"500", resp(500), failSoft},
		{"412 standby behind", resp(412), failSoft},
		{"503 sealed", resp(503), failUnreachable},
		{"502 proxy", resp(502), failUnreachable},
		{"connection refused", errRefused, failUnreachable},
		{"deadline", fmt.Errorf("renew: %w", context.DeadlineExceeded), failUnreachable},
		{"wrapped 403", wrapVault("renew", fmt.Errorf("login: %w", resp(403))), failHard},
		{"derivation denied because tmplrun's token died", &parentRefusedError{resp(403)}, failSoft},
		{"unreadable file", &fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}, failHard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := classify(tt.err); got != tt.want {
				t.Errorf("classify() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVaultErrorIsOneLine(t *testing.T) {
	t.Parallel()
	err := wrapVault("renew", fmt.Errorf("x: %w", &api.ResponseError{
		HTTPMethod: "PUT", URL: "http://127.0.0.1:8200/v1/auth/token/renew-self",
		StatusCode: 403, Errors: []string{"permission denied", "invalid\ntoken"},
	}))
	want := "renew: PUT /v1/auth/token/renew-self: 403 permission denied; invalid token"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	var re *api.ResponseError
	if !errors.As(err, &re) {
		t.Error("the Vault error must stay reachable with errors.As")
	}
	if got := wrapVault("x", nil); got != nil {
		t.Errorf("wrapVault(nil) = %v", got)
	}
}
