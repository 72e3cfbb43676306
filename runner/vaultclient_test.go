package runner

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/tmplrun/tmplrun/template"
)

func TestVaultClientIgnoresTheProcessEnvironment(t *testing.T) {
	// Not parallel: it sets the process environment.
	t.Setenv("VAULT_ADDR", "http://process.invalid:8200")
	t.Setenv("VAULT_AGENT_ADDR", "http://agent.invalid:8100")
	t.Setenv("VAULT_TOKEN", "hvs.process-token")
	t.Setenv("VAULT_NAMESPACE", "process-ns")
	t.Setenv("VAULT_HEADERS", `{"X-Leak":"1"}`)
	t.Setenv("VAULT_MAX_RETRIES", "9")
	t.Setenv("VAULT_RATE_LIMIT", "1")
	t.Setenv("VAULT_CLIENT_TIMEOUT", "1s")

	tests := []struct {
		name, token, ns, wantToken, wantNS string
	}{
		{"the task's token and no namespace", "hvs.task", "", "hvs.task", ""},
		{"no token at all", "", "", "", ""},
		{"the task's namespace", "hvs.task", "team-a", "hvs.task", "team-a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := newClientSet(&template.VaultCluster{Address: "http://127.0.0.1:8200"}, tc.ns, tc.token, nil, context.Background())
			if err != nil {
				t.Fatal(err)
			}
			c := cs.Vault()
			if c.Address() != "http://127.0.0.1:8200" {
				t.Errorf("address %q", c.Address())
			}
			if c.Token() != tc.wantToken {
				t.Errorf("token %q, want %q", c.Token(), tc.wantToken)
			}
			if c.Namespace() != tc.wantNS {
				t.Errorf("namespace %q, want %q", c.Namespace(), tc.wantNS)
			}
			if h := c.Headers(); h.Get("X-Leak") != "" || h.Get("X-Vault-Request") != "true" {
				t.Errorf("headers %v", h)
			}
			if c.MaxRetries() != 0 {
				t.Errorf("max retries %d, want 0 (vault_retry is the one retry layer)", c.MaxRetries())
			}
			if l := c.Limiter(); l != nil && l.Limit() != rate.Inf {
				t.Errorf("rate limit %v from the environment", l.Limit())
			}
			if c.ClientTimeout() != vaultClientTimeout {
				t.Errorf("client timeout %v", c.ClientTimeout())
			}
		})
	}
}

func TestVaultObserver(t *testing.T) {
	t.Parallel()
	req := &http.Request{URL: &url.URL{Path: "/v1/secret/data/db"}}
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code, Request: req} }
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:8200/v1/secret/data/db", Err: errors.New("dial tcp 127.0.0.1:8200: connect: connection refused")}
	type attempt struct {
		resp *http.Response
		err  error
	}
	tests := []struct {
		name                     string
		attempts                 []attempt
		wantState                vaultState
		wantRequests, wantErrors uint64
		wantLastErr              string
		wantNudges               int
	}{
		{"a success", []attempt{{resp(200), nil}}, vaultReachable, 1, 0, "", 1},
		{"a 403 is an error but Vault is there", []attempt{{resp(403), nil}}, vaultReachable, 1, 1, "", 1},
		{"refused: unreachable", []attempt{{nil, refused}}, vaultUnreachable, 1, 1, "dial tcp 127.0.0.1:8200: connect: connection refused", 1},
		{"sealed: unreachable", []attempt{{resp(503), nil}}, vaultUnreachable, 1, 1, "HTTP 503 from /v1/secret/data/db", 1},
		{"down then back", []attempt{{resp(200), nil}, {nil, refused}, {nil, refused}, {resp(200), nil}}, vaultReachable, 4, 2,
			"dial tcp 127.0.0.1:8200: connect: connection refused", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nudges := 0
			o := newVaultObserver(time.Now, func() { nudges++ })
			for _, a := range tc.attempts {
				o.check(context.Background(), a.resp, a.err)
			}
			state, _, lastErr := o.snapshot()
			if state != tc.wantState || o.requests.Load() != tc.wantRequests || o.errors.Load() != tc.wantErrors ||
				lastErr != tc.wantLastErr || nudges != tc.wantNudges {
				t.Errorf("state=%v requests=%d errors=%d lastErr=%q nudges=%d; want %v %d %d %q %d",
					state, o.requests.Load(), o.errors.Load(), lastErr, nudges,
					tc.wantState, tc.wantRequests, tc.wantErrors, tc.wantLastErr, tc.wantNudges)
			}
		})
	}
	t.Run("only a 403 tells of a refused token", func(t *testing.T) {
		t.Parallel()
		told := 0
		o := newVaultObserver(time.Now, func() {})
		o.refused = func() { told++ }
		for _, a := range []attempt{{resp(200), nil}, {resp(404), nil}, {nil, refused}, {resp(503), nil}, {resp(403), nil}, {resp(403), nil}} {
			o.check(context.Background(), a.resp, a.err)
		}
		if told != 2 {
			t.Errorf("refused called %d times, want 2 (once per 403)", told)
		}
	})
	t.Run("a cancelled request is not an outage", func(t *testing.T) {
		t.Parallel()
		o := newVaultObserver(time.Now, func() {})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		o.check(ctx, nil, context.Canceled)
		if state, _, _ := o.snapshot(); state != vaultUnknown || o.requests.Load() != 0 {
			t.Errorf("state %v, requests %d", state, o.requests.Load())
		}
	})
}
