package vaultauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/hashicorp/vault/api"
)

// Sentinel errors callers may branch on.
var (
	// ErrNoToken: the token auth method found neither a token_file nor
	// $VAULT_TOKEN.
	ErrNoToken = errors.New("no Vault token: set token_file in the auth \"token\" block or $VAULT_TOKEN")
	// ErrNoIdentity: a task names a role but its cluster has no identity
	// block to sign the task's workload identity with.
	ErrNoIdentity = errors.New("the task's vault block names a role, but its vault cluster has no identity block")
	// ErrStopped: the token handle or cluster was stopped.
	ErrStopped = errors.New("stopped")
	// ErrTLSVerify: Vault's TLS certificate did not verify against the
	// vault block (ca_file, tls_server_name) at the first contact with
	// the cluster — a configuration error, returned at once rather than
	// retried. Once the cluster has been reached, the same failure is an
	// outage (retried, tokens kept) instead.
	ErrTLSVerify = errors.New("Vault's TLS certificate does not verify (check the vault block's ca_file and tls_server_name)")
)

// tlsVerifyFailed reports whether err is a failure to verify the
// server's certificate: an unknown CA, a name the certificate is not
// for, an expired or otherwise invalid certificate.
func tlsVerifyFailed(err error) bool {
	var cve *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &cve) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// answered reports whether Vault answered the call that returned err: a
// success, or an error response of Vault's API.
func answered(err error) bool {
	var re *api.ResponseError
	return err == nil || errors.As(err, &re)
}

// failure is how a failed Vault call counts for the schedule.
type failure int

const (
	// failSoft: Vault answered with a transient error (500, 429, …).
	failSoft failure = iota
	// failUnreachable: Vault could not be reached, or is sealed or a
	// standby without a leader (502, 503, 504).
	failUnreachable
	// failHard: Vault refused (revoked or expired token, permission
	// denied, bad role or claims), or the request could not be made
	// (unreadable credentials file). Retrying the same thing at once
	// will not help.
	failHard
)

func (f failure) String() string {
	switch f {
	case failUnreachable:
		return "vault unreachable"
	case failHard:
		return "hard"
	}
	return "soft"
}

// classify sorts an error from a Vault call.
func classify(err error) failure {
	if errors.Is(err, ErrTLSVerify) {
		return failHard
	}
	var pr *parentRefusedError
	if errors.As(err, &pr) {
		return failSoft
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.StatusCode == http.StatusTooManyRequests:
			return failSoft
		case re.StatusCode == http.StatusBadGateway,
			re.StatusCode == http.StatusServiceUnavailable,
			re.StatusCode == http.StatusGatewayTimeout:
			return failUnreachable
		case re.StatusCode >= 500:
			return failSoft
		case re.StatusCode == http.StatusPreconditionFailed:
			// Performance standby not caught up yet.
			return failSoft
		}
		return failHard
	}
	// The HTTP client wraps every transport failure in a *url.Error.
	// (Not net.Error: syscall.Errno implements it, and an unreadable
	// credentials file is no outage.)
	var ue *url.Error
	var oe *net.OpError
	if errors.As(err, &ue) || errors.As(err, &oe) || errors.Is(err, context.DeadlineExceeded) {
		return failUnreachable
	}
	return failHard
}

// vaultError is an error from a Vault call reduced to one line that names
// the request and Vault's answer. Vault's own messages never contain the
// token; the request body (a secret_id, a JWT) is never part of it.
type vaultError struct {
	op  string // what we were doing: "renew", "login with approle", …
	err error
}

func (e *vaultError) Error() string { return e.op + ": " + describe(e.err) }
func (e *vaultError) Unwrap() error { return e.err }

func wrapVault(op string, err error) error {
	if err == nil {
		return nil
	}
	return &vaultError{op: op, err: err}
}

// describe renders a Vault client error on one line.
func describe(err error) string {
	var re *api.ResponseError
	if errors.As(err, &re) {
		msg := fmt.Sprintf("%s %s: %d", re.HTTPMethod, pathOf(re.URL), re.StatusCode)
		if len(re.Errors) > 0 {
			msg += " " + oneLine(strings.Join(re.Errors, "; "))
		} else {
			msg += " " + http.StatusText(re.StatusCode)
		}
		return msg
	}
	return oneLine(err.Error())
}

// pathOf keeps the path of a request URL; the address is known.
func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" {
		return raw
	}
	return u.Path
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
