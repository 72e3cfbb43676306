package vaultauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tmplrun/tmplrun/template"
)

// Signer signs workload identities: short-lived JWTs that name a task,
// which Vault's JWT auth method verifies with the matching public key
// (jwt_validation_pubkeys) and binds to a role by claim (bound_claims).
// It is safe for concurrent use.
//
// Claims: iss (the identity block's issuer), aud (its audience), sub
// ("task:<name>"), iat, nbf, exp (iat + ttl), jti (random), and
// tmplrun_task (the task's name) and tmplrun_node (the host tmplrun runs
// on), for bound_claims and claim_mappings.
type Signer struct {
	signer   jose.Signer
	pub      crypto.PublicKey
	kid      string
	alg      jose.SignatureAlgorithm
	issuer   string
	audience []string
	ttl      time.Duration
	node     string
}

// Claim names tmplrun adds to a workload identity.
const (
	ClaimTask = "tmplrun_task"
	ClaimNode = "tmplrun_node"
)

// SubjectPrefix starts the sub claim of every workload identity.
const SubjectPrefix = "task:"

// NewSigner reads the identity block's signing key (PEM: RSA, ECDSA P-256,
// P-384 or P-521, or Ed25519; PKCS #8, PKCS #1 or SEC 1) and returns a
// signer. node is the tmplrun_node claim.
func NewSigner(id *template.Identity, node string) (*Signer, error) {
	data, err := os.ReadFile(id.SigningKeyFile)
	if err != nil {
		return nil, fmt.Errorf("identity signing key: %w", err)
	}
	key, err := parsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("identity signing key %s: %w", id.SigningKeyFile, err)
	}
	return newSigner(key, id, node)
}

func newSigner(key crypto.Signer, id *template.Identity, node string) (*Signer, error) {
	alg, err := algorithm(key)
	if err != nil {
		return nil, err
	}
	kid := id.KeyID
	if kid == "" {
		kid, err = thumbprint(key.Public())
		if err != nil {
			return nil, err
		}
	}
	js, err := jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("identity signer: %w", err)
	}
	ttl := id.TTL
	if ttl <= 0 {
		ttl = template.DefaultIdentityTTL
	}
	issuer := id.Issuer
	if issuer == "" {
		issuer = template.DefaultIdentityIssuer
	}
	aud := id.Audience
	if len(aud) == 0 {
		aud = template.DefaultIdentityAudience
	}
	return &Signer{
		signer:   js,
		pub:      key.Public(),
		kid:      kid,
		alg:      alg,
		issuer:   issuer,
		audience: append([]string(nil), aud...),
		ttl:      ttl,
		node:     node,
	}, nil
}

// Sign returns a workload identity for task, issued at now.
func (s *Signer) Sign(task string, now time.Time) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	std := jwt.Claims{
		Issuer:    s.issuer,
		Subject:   SubjectPrefix + task,
		Audience:  jwt.Audience(s.audience),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(s.ttl)),
		ID:        hex.EncodeToString(jti[:]),
	}
	ours := struct {
		Task string `json:"tmplrun_task"`
		Node string `json:"tmplrun_node,omitempty"`
	}{task, s.node}
	tok, err := jwt.Signed(s.signer).Claims(std).Claims(ours).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign workload identity for task %s: %w", task, err)
	}
	return tok, nil
}

// KeyID is the kid header of the identities: the identity block's key_id,
// else the RFC 7638 SHA-256 thumbprint of the public key.
func (s *Signer) KeyID() string { return s.kid }

// Algorithm is the JWS algorithm the signer uses (RS256, ES256, …, EdDSA).
func (s *Signer) Algorithm() string { return string(s.alg) }

// PublicKey is the key Vault verifies the identities with.
func (s *Signer) PublicKey() crypto.PublicKey { return s.pub }

// PublicKeyPEM is the public key as a PEM "PUBLIC KEY" block, the form
// Vault's jwt_validation_pubkeys takes.
func (s *Signer) PublicKeyPEM() ([]byte, error) { return publicPEM(s.pub) }

// PublicKeyPEM derives the PEM public key ("PUBLIC KEY", PKIX) from a PEM
// signing key, for configuring Vault's JWT auth method.
func PublicKeyPEM(signingKeyPEM []byte) ([]byte, error) {
	key, err := parsePrivateKey(signingKeyPEM)
	if err != nil {
		return nil, err
	}
	return publicPEM(key.Public())
}

func publicPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// parsePrivateKey reads the first private key PEM block of data.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key found")
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			continue // e.g. "EC PARAMETERS" before the key
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", block.Type, err)
		}
		s, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported key type %T", key)
		}
		if _, err := algorithm(s); err != nil {
			return nil, err
		}
		return s, nil
	}
}

// algorithm picks the JWS algorithm for key.
func algorithm(key crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("RSA key of %d bits is too small (2048 or more)", k.N.BitLen())
		}
		return jose.RS256, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
		return "", fmt.Errorf("unsupported ECDSA curve %s", k.Curve.Params().Name)
	case ed25519.PrivateKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("unsupported key type %T (want RSA, ECDSA or Ed25519)", key)
}

func thumbprint(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}
