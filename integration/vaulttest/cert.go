package vaulttest

import "time"

// CertMount is where CertRole enables the TLS certificate auth method.
const CertMount = "cert"

// CertRole describes a trusted certificate of the TLS certificate auth
// method (auth/cert/certs/NAME): a client logging in at auth/cert/login
// over HTTPS (ServeTLS) with a client certificate that chains to it gets
// a token with its policies.
type CertRole struct {
	// Certificate is the PEM CA (or client) certificate trusted. Default:
	// the ServeTLS listener's ClientCA.
	Certificate string
	// AllowedCommonNames, when set, restricts the client certificates'
	// common names (globs allowed).
	AllowedCommonNames []string
	// Policies of the tokens a login returns; TokenTTL, TokenMaxTTL,
	// TokenPeriod bound them.
	Policies                           []string
	TokenTTL, TokenMaxTTL, TokenPeriod time.Duration
}

// CertRole enables the cert auth method at auth/cert (once) and writes
// the trusted certificate name. Logging in needs the HTTPS listener: it
// starts it (ServeTLS) when r.Certificate is empty.
func (v *Vault) CertRole(name string, r CertRole) {
	v.t.Helper()
	if r.Certificate == "" {
		r.Certificate = v.ServeTLS().ClientCA.CertPEM()
	}
	v.enable(true, CertMount, "cert")
	data := map[string]any{
		"certificate":    r.Certificate,
		"display_name":   name,
		"token_policies": r.Policies,
	}
	if len(r.AllowedCommonNames) > 0 {
		data["allowed_common_names"] = r.AllowedCommonNames
	}
	putDuration(data, "token_ttl", r.TokenTTL)
	putDuration(data, "token_max_ttl", r.TokenMaxTTL)
	putDuration(data, "token_period", r.TokenPeriod)
	v.write("auth/"+CertMount+"/certs/"+name, data)
}
