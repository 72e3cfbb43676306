package vaulttest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// JWTMount is where EnableJWT enables the JWT auth method by default.
const JWTMount = "jwt"

// Signer signs JWTs (ES256) with a key of its own; configure Vault to
// trust it with EnableJWT.
type Signer struct {
	t      T
	key    *ecdsa.PrivateKey
	kid    string
	signer jose.Signer
}

// NewSigner generates a P-256 key and returns a Signer for it.
func NewSigner(t T) *Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("vaulttest: generate key: %v", err)
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	kid := hex.EncodeToString(id)
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("vaulttest: signer: %v", err)
	}
	return &Signer{t: t, key: key, kid: kid, signer: signer}
}

// KeyID is the key's "kid", set in every JWT's header.
func (s *Signer) KeyID() string { return s.kid }

// PublicKey is the public half of the signing key.
func (s *Signer) PublicKey() crypto.PublicKey { return &s.key.PublicKey }

// PublicKeyPEM is the public key as a PEM "PUBLIC KEY" block, what Vault's
// jwt_validation_pubkeys takes.
func (s *Signer) PublicKeyPEM() string {
	s.t.Helper()
	p, err := publicKeyPEM(&s.key.PublicKey)
	if err != nil {
		s.t.Fatalf("vaulttest: %v", err)
	}
	return p
}

// JWKS is a JSON Web Key Set holding the public key.
func (s *Signer) JWKS() []byte {
	s.t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{s.jwk()}})
	if err != nil {
		s.t.Fatalf("vaulttest: %v", err)
	}
	return b
}

func (s *Signer) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: string(jose.ES256), Use: "sig"}
}

// Sign returns a signed JWT with the given claims. "iat" and "nbf"
// default to now and "exp" to five minutes from now; set them (Unix
// seconds) to override, e.g. an "exp" in the past for an expired JWT.
func (s *Signer) Sign(claims map[string]any) string {
	s.t.Helper()
	now := time.Now().Unix()
	c := map[string]any{"iat": now, "nbf": now, "exp": now + 300}
	for k, v := range claims {
		c[k] = v
	}
	payload, err := json.Marshal(c)
	if err != nil {
		s.t.Fatalf("vaulttest: JWT claims: %v", err)
	}
	jws, err := s.signer.Sign(payload)
	if err != nil {
		s.t.Fatalf("vaulttest: sign JWT: %v", err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		s.t.Fatalf("vaulttest: sign JWT: %v", err)
	}
	return out
}

// JWTConfig configures the JWT auth method.
type JWTConfig struct {
	// Mount is the auth mount path. Default "jwt" (auth/jwt).
	Mount string
	// Signer's key is trusted. Nil: EnableJWT makes a new Signer.
	Signer *Signer
	// PublicKeysPEM are more keys to trust, as PEM public keys (for
	// example the key tmplrun signs workload identities with).
	PublicKeysPEM []string
	// JWKS is a JSON Web Key Set of more keys to trust.
	JWKS []byte
	// ServeJWKS: Vault fetches every trusted key as a JWKS document the
	// harness serves over HTTP (jwks_url), instead of being given them
	// as PEM (jwt_validation_pubkeys).
	ServeJWKS bool
	// BoundIssuer, when set, must be every JWT's "iss".
	BoundIssuer string
}

// allAlgs are the signing algorithms Vault accepts here; the plugin's
// default is RS256 only.
var allAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

// EnableJWT enables the JWT auth method at c.Mount (once), configures it
// to trust c's keys, and returns the Signer whose key it trusts.
func (v *Vault) EnableJWT(c JWTConfig) *Signer {
	v.t.Helper()
	if c.Mount == "" {
		c.Mount = JWTMount
	}
	if c.Signer == nil {
		c.Signer = NewSigner(v.t)
	}
	keys, err := trustedKeys(c)
	if err != nil {
		v.t.Fatalf("vaulttest: JWT keys: %v", err)
	}
	v.enable(true, c.Mount, "jwt")
	conf := map[string]any{"jwt_supported_algs": allAlgs}
	if c.BoundIssuer != "" {
		conf["bound_issuer"] = c.BoundIssuer
	}
	if c.ServeJWKS {
		url, err := v.serveJWKS(keys)
		if err != nil {
			v.t.Fatalf("vaulttest: serve JWKS: %v", err)
		}
		conf["jwks_url"] = url
	} else {
		pems := make([]string, 0, len(keys))
		for _, k := range keys {
			p, err := publicKeyPEM(k.Key)
			if err != nil {
				v.t.Fatalf("vaulttest: JWT key %q: %v", k.KeyID, err)
			}
			pems = append(pems, p)
		}
		conf["jwt_validation_pubkeys"] = pems
	}
	v.write("auth/"+c.Mount+"/config", conf)
	return c.Signer
}

// trustedKeys gathers every key c trusts as public JWKs.
func trustedKeys(c JWTConfig) ([]jose.JSONWebKey, error) {
	keys := []jose.JSONWebKey{c.Signer.jwk()}
	for _, p := range c.PublicKeysPEM {
		b, _ := pem.Decode([]byte(p))
		if b == nil {
			return nil, errors.New("PublicKeysPEM: no PEM block")
		}
		pub, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		keys = append(keys, jose.JSONWebKey{Key: pub, Use: "sig"})
	}
	if len(c.JWKS) > 0 {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(c.JWKS, &set); err != nil {
			return nil, err
		}
		for _, k := range set.Keys {
			keys = append(keys, k.Public())
		}
	}
	return keys, nil
}

func publicKeyPEM(pub any) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// serveJWKS serves keys as a JWKS document on loopback until Close and
// returns its URL.
func (v *Vault) serveJWKS(keys []jose.JSONWebKey) (string, error) {
	doc, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
		}),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	v.onClose(func() {
		_ = srv.Shutdown(context.Background())
		<-done
	})
	return "http://" + ln.Addr().String() + "/jwks.json", nil
}

// JWTRole describes a role of the JWT auth method (auth/MOUNT/role/NAME).
type JWTRole struct {
	// Mount of the JWT auth method. Default "jwt".
	Mount string
	// BoundClaims must all match the JWT's claims (a list value matches
	// any of its elements).
	BoundClaims map[string]any
	// BoundAudiences: a JWT carrying "aud" needs one of them (Vault
	// rejects a JWT with "aud" when none is bound).
	BoundAudiences []string
	// BoundSubject, when set, must be the JWT's "sub".
	BoundSubject string
	// UserClaim names the entity alias. Default "sub".
	UserClaim string
	// ClaimMappings copy claims into the token's metadata.
	ClaimMappings map[string]string
	// Policies of the tokens a login returns; TokenTTL, TokenMaxTTL,
	// TokenPeriod bound them.
	Policies                           []string
	TokenTTL, TokenMaxTTL, TokenPeriod time.Duration
}

// JWTRole writes the JWT auth role name. EnableJWT must have run for the
// mount.
func (v *Vault) JWTRole(name string, r JWTRole) {
	v.t.Helper()
	if r.Mount == "" {
		r.Mount = JWTMount
	}
	if r.UserClaim == "" {
		r.UserClaim = "sub"
	}
	data := map[string]any{
		"role_type":       "jwt",
		"user_claim":      r.UserClaim,
		"bound_audiences": r.BoundAudiences,
		"bound_subject":   r.BoundSubject,
		"token_policies":  r.Policies,
	}
	if len(r.BoundClaims) > 0 {
		data["bound_claims"] = r.BoundClaims
	}
	if len(r.ClaimMappings) > 0 {
		data["claim_mappings"] = r.ClaimMappings
	}
	putDuration(data, "token_ttl", r.TokenTTL)
	putDuration(data, "token_max_ttl", r.TokenMaxTTL)
	putDuration(data, "token_period", r.TokenPeriod)
	v.write("auth/"+r.Mount+"/role/"+name, data)
}
