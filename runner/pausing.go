package runner

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"math/rand/v2"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"
)

// pauser stands in for the sleep of a consul-template dependency whose
// Fetch sleeps with time.Sleep, deaf to Stop, until its data is due again
// (see trackedDep). Its rules are consul-template's own (v0.41.3:
// leaseCheckWait, goodFor), so that secrets are re-fetched when they were.
type pauser interface {
	// after is given a successful Fetch's data. It reports whether the
	// dependency now sleeps before its next Fetch (again) and how long
	// the runner waits instead.
	after(data any) (wait time.Duration, again bool)
	// fresh builds a new copy of the dependency, with nothing to sleep.
	fresh() (dep.Dependency, error)
}

// writePauser is vault.write (secret with parameters): after writing, a
// non-renewable secret sleeps most of its lease; a renewable one is renewed
// in its next Fetch, which heeds Stop.
type writePauser struct {
	path string
	data map[string]any
}

func (p writePauser) fresh() (dep.Dependency, error) { return dep.NewVaultWriteQuery(p.path, p.data) }

func (p writePauser) after(data any) (time.Duration, bool) {
	s, ok := data.(*dep.Secret)
	if !ok || s == nil || renewable(s) {
		return 0, false
	}
	return nonRenewableWait(s, dep.VaultDefaultLeaseDuration, dep.VaultLeaseRenewalThreshold, rand.Float64(), time.Now()), true
}

// pkiPauser is pkiCert: after each fetch it sleeps until the certificate
// is due for renewal.
type pkiPauser struct {
	path, file string
	data       map[string]any
}

func (p pkiPauser) fresh() (dep.Dependency, error) {
	return dep.NewVaultPKIQuery(p.path, p.file, p.data)
}

func (p pkiPauser) after(data any) (time.Duration, bool) {
	pems, _ := data.(dep.PemEncoded)
	return certWait(pems.Cert, dep.VaultLeaseRenewalThreshold, time.Now()), true
}

func renewable(s *dep.Secret) bool {
	if s.Auth != nil {
		return s.Auth.Renewable
	}
	return s.Renewable
}

// nonRenewableWait is how long a non-renewable secret is kept before it is
// fetched again: threshold (±5%, by rnd in [0, 1)) of its lease — the
// token's for an auth response, a certificate's expiration, an AppRole
// secret ID's TTL — or the TTL of a rotating secret; the default lease
// duration when it has none.
func nonRenewableWait(s *dep.Secret, defaultLease time.Duration, threshold, rnd float64, now time.Time) time.Duration {
	base := int64(s.LeaseDuration)
	if s.Auth != nil && s.Auth.LeaseDuration > 0 {
		base = int64(s.Auth.LeaseDuration)
	}
	if s.LeaseID == "" {
		if _, ok := s.Data["certificate"]; ok {
			if exp, ok := jsonInt(s.Data["expiration"]); ok {
				base = exp - now.Unix()
			}
		}
		if _, ok := s.Data["secret_id"]; ok {
			if ttl, ok := jsonInt(s.Data["secret_id_ttl"]); ok && ttl > 0 {
				base = ttl + 1
			}
		}
		if _, ok := s.Data["rotation_period"]; ok {
			if ttl, ok := jsonInt(s.Data["ttl"]); ok {
				return time.Duration(ttl+1) * time.Second
			}
		}
	}
	if base <= 0 {
		base = int64(defaultLease / time.Second)
	}
	fraction := threshold + (rnd-0.5)*0.1
	if fraction >= 1 || fraction <= 0 {
		fraction = threshold
	}
	return time.Duration(float64(time.Duration(base)*time.Second) * fraction)
}

// certWait is how long until a certificate (PEM) is due for renewal: at
// threshold of its lifetime. An unreadable or expired one is due now.
func certWait(certPEM string, threshold float64, now time.Time) time.Duration {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil {
		return 0
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return 0
	}
	life := cert.NotAfter.Sub(cert.NotBefore)
	due := cert.NotBefore.Add(time.Duration(float64(life) * threshold))
	return max(due.Sub(now), 0)
}

func jsonInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case float64:
		return int64(n), true
	case int:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}
