package vaultauth

import (
	"context"
	"crypto/x509"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// errUnknownCA is a TLS failure as the Vault client returns it.
var errUnknownCA = &url.Error{Op: "Put", URL: "https://127.0.0.1:8200/v1/auth/cert/login",
	Err: x509.UnknownAuthorityError{}}

// A certificate that does not verify at the first contact with a cluster
// is a configuration error, returned at once; once Vault has answered,
// the same failure is an outage and retried.
func TestKeeperFirstTLSVerifyFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		contacted bool
		wantTLS   bool
	}{
		{"before any contact: a configuration error", false, true},
		{"after a contact: an outage", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := &fakeSource{ttl: time.Hour, obtains: []result{{err: errUnknownCA}}}
			r := newRig(t, src, false)
			r.k.contacted.Store(tt.contacted)
			errc := make(chan error, 1)
			go func() { errc <- r.k.first(context.Background()) }()
			if tt.contacted {
				r.clk.fire(t) // the retry
			}
			err := <-errc
			if got := errors.Is(err, ErrTLSVerify); got != tt.wantTLS {
				t.Fatalf("first() = %v; errors.Is(ErrTLSVerify) = %v, want %v", err, got, tt.wantTLS)
			}
			if tt.wantTLS {
				var ua x509.UnknownAuthorityError
				if !errors.As(err, &ua) || !strings.Contains(err.Error(), "ca_file") || len(src.callLog()) != 1 {
					t.Errorf("first() = %v after %d calls: want the certificate error, the fields to check, one attempt", err, len(src.callLog()))
				}
				if st := r.k.status(); !strings.Contains(st.LastError, "does not verify") {
					t.Errorf("status = %+v", st)
				}
			} else if err != nil {
				t.Errorf("first() = %v, want the retry to succeed", err)
			}
		})
	}
}

// Vault answering at all — even with an error — is a contact.
func TestKeeperFirstContact(t *testing.T) {
	t.Parallel()
	src := &fakeSource{ttl: time.Hour, obtains: []result{{err: errRefused}, {err: errInternal}}}
	r := newRig(t, src, false)
	errc := make(chan error, 1)
	go func() { errc <- r.k.first(context.Background()) }()
	r.clk.fire(t)
	if r.k.contacted.Load() {
		t.Error("contacted after only a refused connection")
	}
	r.clk.fire(t)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !r.k.contacted.Load() {
		t.Error("not contacted after Vault answered")
	}
}

// A first token cut short by its context says why the attempts failed.
func TestKeeperFirstCutShortSaysWhy(t *testing.T) {
	t.Parallel()
	r := newRig(t, &fakeSource{obtains: []result{{err: errRefused}, {err: errRefused}}}, false)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.k.first(ctx) }()
	r.clk.fire(t)
	r.clk.waitTimer(t)
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errRefused) {
		t.Fatalf("first() = %v, want the context's error and the last failure", err)
	}
	if want := "context canceled after 2 attempts; the last one failed: Put"; !strings.Contains(err.Error(), want) ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Errorf("first() = %q, want %q … connection refused", err, want)
	}
}
