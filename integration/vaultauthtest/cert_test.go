package vaultauthtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// certRig is a rig whose Vault also serves HTTPS and has the cert auth
// method trusting its client CA for tmplrun (common names tmplrun.*),
// and a cluster block logging in with a client certificate over HTTPS.
func certRig(t *testing.T) (*rig, *vaulttest.TLSServer, *template.VaultCluster) {
	t.Helper()
	return certRigPeriod(t, 3*time.Second)
}

// certRigPeriod is certRig with the period of tmplrun's token given.
func certRigPeriod(t *testing.T, period time.Duration) (*rig, *vaulttest.TLSServer, *template.VaultCluster) {
	t.Helper()
	r := newRig(t, time.Hour)
	s := r.v.ServeTLS()
	r.v.CertRole("tmplrun", vaulttest.CertRole{
		AllowedCommonNames: []string{"tmplrun.*"},
		Policies:           []string{"tmplrun"},
		TokenPeriod:        period,
	})
	cert := s.ClientCert("tmplrun.node-1")
	block := &template.VaultCluster{
		Address:        s.Addr,
		CAFile:         s.CA.CertFile(),
		CertFile:       cert.CertFile,
		KeyFile:        cert.KeyFile,
		CreateFromRole: TokenRole,
		Auth:           &template.Auth{Method: template.AuthCert, Name: "tmplrun"},
	}
	canonical(block)
	return r, s, block
}

// tmplrun logs in with its TLS client certificate over HTTPS, keeps the
// token alive (Vault checks the certificate at every renewal), derives
// task tokens with it, and revokes both at Close.
func TestCertLogin(t *testing.T) {
	t.Parallel()
	r, _, block := certRig(t)
	cs, err := vaultauth.NewClusters([]*template.VaultCluster{block}, r.options(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	c, _ := cs.Get("")
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st.State != vaultauth.StateHealthy || st.TTL != 3*time.Second || len(tokensFrom(t, r.v, "auth/cert/login")) != 1 {
		t.Fatalf("after login: %+v", st)
	}
	task := r.task("web", &template.Vault{Policies: []string{"web"}})
	tok, err := cs.Task(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := r.v.LookupToken(tok.Token().Secret())
	if !ok {
		t.Fatal("no task token")
	}
	if diff := cmp.Diff([]string{"default", "web"}, info.Policies); diff != "" {
		t.Errorf("task token policies (-want +got):\n%s", diff)
	}
	r.events.waitFor(t, "", vaultauth.EventRenewed, 2, 20*time.Second)
	if n := r.events.count("", vaultauth.EventReplaced); n != 0 {
		t.Errorf("tmplrun's token was replaced %d times; events:\n%s", n, r.events)
	}
	if err := cs.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := tokensFrom(t, r.v, "auth/cert/login"); len(left) != 0 {
		t.Errorf("tmplrun's login token survived Close: %v", left)
	}
	if _, ok := r.v.LookupToken(tok.Token().Secret()); ok {
		t.Error("the task token survived Close")
	}
	noSecrets(t, r, "-----BEGIN")
}

// What goes wrong with cert auth is reported at once, with the reason:
// a client certificate Vault does not trust, an unknown certificate role,
// and — before any contact with Vault — a server certificate that does
// not verify (unknown CA, wrong tls_server_name), which is a
// configuration mistake, not an outage to wait out.
func TestCertLoginFailures(t *testing.T) {
	t.Parallel()
	r, _, block := certRig(t)
	other := vaulttest.NewCA(t, "other")
	foreign := other.ClientCert("tmplrun.node-1")
	tests := []struct {
		name    string
		change  func(b *template.VaultCluster)
		want    []string
		wantTLS bool // errors.Is(err, vaultauth.ErrTLSVerify)
	}{
		{"client certificate of another CA", func(b *template.VaultCluster) { b.CertFile, b.KeyFile = foreign.CertFile, foreign.KeyFile },
			[]string{"login with cert at auth/cert", "400", "invalid certificate"}, false},
		{"unknown certificate role", func(b *template.VaultCluster) { b.Auth.Name = "nope" },
			[]string{"login with cert at auth/cert", "400"}, false},
		{"server certificate of an unknown CA", func(b *template.VaultCluster) { b.CAFile = other.CertFile() },
			[]string{"login with cert at auth/cert", "TLS", "ca_file", "unknown authority"}, true},
		{"wrong tls_server_name", func(b *template.VaultCluster) { b.TLSServerName = "vault.other.example" },
			[]string{"login with cert at auth/cert", "TLS", "tls_server_name", "vault.other.example"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := *block
			auth := *block.Auth
			b.Auth = &auth
			tt.change(&b)
			sent := &sentCounter{n: map[string]int{}}
			opts := r.options(t)
			opts.WrapTransport = sent.wrap
			cs := r.clusters(t, opts, &b)
			c, _ := cs.Get("")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := c.Login(ctx)
			if err == nil {
				t.Fatal("login succeeded")
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("login retried until its context ended: %v", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if got := errors.Is(err, vaultauth.ErrTLSVerify); got != tt.wantTLS {
				t.Errorf("errors.Is(%v, ErrTLSVerify) = %v, want %v", err, got, tt.wantTLS)
			}
			if n := sent.get("auth/cert/login"); n != 1 {
				t.Errorf("%d login attempts, want 1", n)
			}
			t.Logf("%s: %v", tt.name, err)
		})
	}
}

// After Vault was reached once, a certificate that stops verifying (a
// rotation gone wrong, an interception) is an outage like any other:
// tmplrun keeps its tokens and retries; nothing is replaced, and renewal
// resumes once the certificate verifies again.
func TestTLSFailureAfterContactIsAnOutage(t *testing.T) {
	t.Parallel()
	// A period long enough that the token outlives the failed renewal and
	// its retry: with 3 s the retry could land after expiry, and a
	// replacement then is right.
	r, s, block := certRigPeriod(t, 12*time.Second)
	cs := r.clusters(t, r.options(t), block)
	ctx := ctxFor(t)
	tok, err := cs.Task(ctx, r.task("web", &template.Vault{Policies: []string{"web"}}))
	if err != nil {
		t.Fatal(err)
	}
	news, cancel := tok.Subscribe(tok.Token().Generation)
	defer cancel()
	c, _ := cs.Get("")
	own := c.Status().Generation

	s.SetCertificate(vaulttest.NewCA(t, "impostor").ServerCert("127.0.0.1", "localhost"))
	r.events.waitFor(t, "", vaultauth.EventUnreachable, 1, 20*time.Second)
	if st := c.Status(); st.State != vaultauth.StateUnreachable || !strings.Contains(st.LastError, "certificate") {
		t.Errorf("status while the certificate does not verify: %+v", st)
	}
	s.SetCertificate(s.CA.ServerCert("127.0.0.1", "::1", "localhost"))
	r.events.waitFor(t, "", vaultauth.EventReachable, 1, 20*time.Second)
	renewed := r.events.count("", vaultauth.EventRenewed)
	r.events.waitFor(t, "", vaultauth.EventRenewed, renewed+1, 20*time.Second)

	if st := c.Status(); st.Generation != own || st.State != vaultauth.StateHealthy {
		t.Errorf("tmplrun's token after the TLS failure: %+v; events:\n%s", st, r.events)
	}
	select {
	case got := <-news:
		t.Errorf("the task got a new token: %v", got)
	default:
	}
	if n := r.events.count("", vaultauth.EventReplaced) + r.events.count("web", vaultauth.EventReplaced); n != 0 {
		t.Errorf("%d replacements; events:\n%s", n, r.events)
	}
}

// A first login that its context cuts short says why its attempts failed.
func TestFirstLoginCutShortSaysWhy(t *testing.T) {
	t.Parallel()
	r, _, block := certRig(t)
	r.v.Down()
	cs := r.clusters(t, r.options(t), block)
	c, _ := cs.Get("")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := c.Login(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Login() = %v, want the context's deadline", err)
	}
	for _, want := range []string{"login with cert at auth/cert", "connection refused", "attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if errors.Is(err, vaultauth.ErrTLSVerify) {
		t.Errorf("an unreachable Vault is no TLS configuration error: %v", err)
	}
	t.Logf("cut short: %v", err)
}
