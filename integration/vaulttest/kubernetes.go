package vaulttest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// KubernetesMount is where EnableKubernetes enables Vault's kubernetes
// auth method by default.
const KubernetesMount = "kubernetes"

// KubernetesIssuer is the "iss" of the service-account tokens Kubernetes
// issues; the auth method is configured to require it.
const KubernetesIssuer = "https://kubernetes.default.svc.cluster.local"

// KubernetesAudience is the "aud" of those tokens.
const KubernetesAudience = "https://kubernetes.default.svc.cluster.local"

// Kubernetes stands in for the one Kubernetes API that Vault's kubernetes
// auth method (vault-plugin-auth-kubernetes) calls: TokenReview (POST
// /apis/authentication.k8s.io/v1/tokenreviews), over HTTPS with its own
// certificate. It issues service-account tokens — JWTs signed with a key
// of its own, which the auth method also checks (pem_keys) — and reviews
// them as the API server does: the reviewer must present its token, and a
// service-account token is authenticated while its signature, expiry and
// audience hold and it has not been revoked (its service account deleted).
//
// It is a stand-in for Kubernetes, not for Vault: Vault and its auth
// plugin are the real ones.
type Kubernetes struct {
	// Host is the API server's address, e.g. "https://127.0.0.1:41234",
	// as the auth method's kubernetes_host.
	Host string
	// Mount is the auth mount path, e.g. "kubernetes".
	Mount string

	t        T
	signer   *Signer // signs the service-account tokens (ES256)
	reviewer string  // the token Vault reviews with (token_reviewer_jwt)

	mu      sync.Mutex
	revoked map[string]bool // service-account tokens revoked
	reviews int
	denied  int
}

// KubernetesConfig configures EnableKubernetes.
type KubernetesConfig struct {
	// Mount is the auth mount path. Default "kubernetes".
	Mount string
}

// EnableKubernetes starts a Kubernetes TokenReview API for this Vault (it
// stops at Close), enables the kubernetes auth method at c.Mount and
// configures it to review tokens there (kubernetes_host,
// kubernetes_ca_cert, token_reviewer_jwt) and to verify their signature
// and issuer (pem_keys, issuer).
func (v *Vault) EnableKubernetes(c KubernetesConfig) *Kubernetes {
	v.t.Helper()
	if c.Mount == "" {
		c.Mount = KubernetesMount
	}
	k := &Kubernetes{Mount: c.Mount, t: v.t, signer: NewSigner(v.t), revoked: map[string]bool{}}
	k.reviewer = k.sign("kube-system", "vault-auth", time.Hour)

	srv := httptest.NewTLSServer(http.HandlerFunc(k.serveHTTP))
	v.onClose(srv.Close)
	k.Host = srv.URL
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	v.enable(true, c.Mount, "kubernetes")
	v.write("auth/"+c.Mount+"/config", map[string]any{
		"kubernetes_host":        k.Host,
		"kubernetes_ca_cert":     caPEM,
		"token_reviewer_jwt":     k.reviewer,
		"pem_keys":               []string{k.signer.PublicKeyPEM()},
		"issuer":                 KubernetesIssuer,
		"disable_iss_validation": false,
		"disable_local_ca_jwt":   true,
	})
	return k
}

// ServiceAccountToken issues a token of the service account name in
// namespace, valid for an hour, as Kubernetes projects into a pod.
func (k *Kubernetes) ServiceAccountToken(namespace, name string) string {
	k.t.Helper()
	return k.sign(namespace, name, time.Hour)
}

// Revoke makes the API server refuse token from now on, as when its
// service account (or the pod it was bound to) is deleted.
func (k *Kubernetes) Revoke(token string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.revoked[token] = true
}

// Reviews is how many TokenReviews the API server answered, and how many
// of them it did not authenticate.
func (k *Kubernetes) Reviews() (total, unauthenticated int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reviews, k.denied
}

// ServiceAccountUID is the uid of a service account, as the tokens and
// reviews carry it.
func ServiceAccountUID(namespace, name string) string {
	h := sha256.Sum256([]byte(namespace + "/" + name))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

func (k *Kubernetes) sign(namespace, name string, ttl time.Duration) string {
	k.t.Helper()
	now := time.Now()
	return k.signer.Sign(map[string]any{
		"iss": KubernetesIssuer,
		"sub": "system:serviceaccount:" + namespace + ":" + name,
		"aud": []string{KubernetesAudience},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      namespace,
			"serviceaccount": map[string]any{"name": name, "uid": ServiceAccountUID(namespace, name)},
		},
	})
}

// tokenReview is the part of authentication.k8s.io/v1 TokenReview used.
type tokenReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Token     string   `json:"token"`
		Audiences []string `json:"audiences,omitempty"`
	} `json:"spec"`
	Status reviewStatus `json:"status"`
}

type reviewStatus struct {
	Authenticated bool `json:"authenticated"`
	User          struct {
		Username string   `json:"username,omitempty"`
		UID      string   `json:"uid,omitempty"`
		Groups   []string `json:"groups,omitempty"`
	} `json:"user"`
	Audiences []string `json:"audiences,omitempty"`
	Error     string   `json:"error,omitempty"`
}

func (k *Kubernetes) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" {
		kubeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+k.reviewer {
		kubeStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	var tr tokenReview
	if err := json.NewDecoder(r.Body).Decode(&tr); err != nil || tr.Spec.Token == "" {
		kubeStatus(w, http.StatusBadRequest, "BadRequest", "a TokenReview with spec.token is required")
		return
	}
	st, err := k.review(tr.Spec.Token, tr.Spec.Audiences)
	k.mu.Lock()
	k.reviews++
	if err != nil {
		k.denied++
	}
	k.mu.Unlock()
	if err != nil {
		st = reviewStatus{Error: err.Error()}
	}
	tr.APIVersion, tr.Kind, tr.Status = "authentication.k8s.io/v1", "TokenReview", st
	tr.Spec.Token = ""
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(tr)
}

// review authenticates a service-account token as the API server does.
func (k *Kubernetes) review(token string, audiences []string) (reviewStatus, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return reviewStatus{}, errors.New("invalid bearer token")
	}
	payload, err := jws.Verify(k.signer.PublicKey())
	if err != nil {
		return reviewStatus{}, errors.New("invalid bearer token, token signature is invalid")
	}
	var c struct {
		Sub  string   `json:"sub"`
		Aud  []string `json:"aud"`
		Exp  int64    `json:"exp"`
		Kube struct {
			ServiceAccount struct {
				UID string `json:"uid"`
			} `json:"serviceaccount"`
		} `json:"kubernetes.io"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return reviewStatus{}, errors.New("invalid bearer token")
	}
	k.mu.Lock()
	revoked := k.revoked[token]
	k.mu.Unlock()
	switch {
	case revoked:
		return reviewStatus{}, errors.New("invalid bearer token, service account token has been invalidated")
	case time.Now().Unix() >= c.Exp:
		return reviewStatus{}, errors.New("invalid bearer token, token has expired")
	case !strings.HasPrefix(c.Sub, "system:serviceaccount:"):
		return reviewStatus{}, errors.New("invalid bearer token")
	}
	var st reviewStatus
	st.Audiences = c.Aud
	if len(audiences) > 0 {
		st.Audiences = nil
		for _, a := range audiences {
			if slices.Contains(c.Aud, a) {
				st.Audiences = append(st.Audiences, a)
			}
		}
		if len(st.Audiences) == 0 {
			return reviewStatus{}, fmt.Errorf("invalid bearer token, token audiences %v is invalid for the target audiences %v", c.Aud, audiences)
		}
	}
	st.Authenticated = true
	st.User.Username = c.Sub
	st.User.UID = c.Kube.ServiceAccount.UID
	ns := strings.Split(c.Sub, ":")[2]
	st.User.Groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
	return st, nil
}

// kubeStatus writes a Kubernetes API error (a meta/v1 Status).
func kubeStatus(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"kind": "Status", "apiVersion": "v1", "status": "Failure",
		"message": msg, "reason": reason, "code": code,
	})
}

// KubernetesRole describes a role of the kubernetes auth method
// (auth/MOUNT/role/NAME).
type KubernetesRole struct {
	// Mount of the auth method. Default "kubernetes".
	Mount string
	// ServiceAccountNames and ServiceAccountNamespaces bind the role
	// (globs allowed; "*" for any). Both are required by Vault.
	ServiceAccountNames, ServiceAccountNamespaces []string
	// Audience, when set, must be one of the token's audiences.
	Audience string
	// Policies of the tokens a login returns; TokenTTL, TokenMaxTTL,
	// TokenPeriod bound them.
	Policies                           []string
	TokenTTL, TokenMaxTTL, TokenPeriod time.Duration
}

// KubernetesRole writes the kubernetes auth role name. EnableKubernetes
// must have run for the mount.
func (v *Vault) KubernetesRole(name string, r KubernetesRole) {
	v.t.Helper()
	if r.Mount == "" {
		r.Mount = KubernetesMount
	}
	data := map[string]any{
		"bound_service_account_names":      r.ServiceAccountNames,
		"bound_service_account_namespaces": r.ServiceAccountNamespaces,
		"token_policies":                   r.Policies,
	}
	if r.Audience != "" {
		data["audience"] = r.Audience
	}
	putDuration(data, "token_ttl", r.TokenTTL)
	putDuration(data, "token_max_ttl", r.TokenMaxTTL)
	putDuration(data, "token_period", r.TokenPeriod)
	v.write("auth/"+r.Mount+"/role/"+name, data)
}
