package vaulttest

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
)

// PutPolicy writes the ACL policy name with the given HCL rules.
func (v *Vault) PutPolicy(name, rules string) {
	v.t.Helper()
	v.write("sys/policies/acl/"+name, map[string]any{"policy": rules})
}

// TokenRole is a token role (auth/token/roles/NAME): the template for
// tokens created through auth/token/create/NAME, such as task tokens.
type TokenRole struct {
	// AllowedPolicies the tokens may carry; a creator may ask for any
	// subset. Empty means any of the creator's own policies.
	AllowedPolicies []string
	// Orphan tokens have no parent: revoking the creator leaves them.
	Orphan bool
	// Period makes periodic tokens: renewable forever, Period at a time.
	Period time.Duration
	// MaxTTL (token_explicit_max_ttl) bounds the tokens' lives. Token
	// roles have no TTL of their own (Vault ignores token_ttl there): a
	// non-periodic token gets the system default TTL, capped by MaxTTL.
	MaxTTL time.Duration
	// NotRenewable makes tokens that cannot be renewed.
	NotRenewable bool
}

// CreateTokenRole writes the token role name.
func (v *Vault) CreateTokenRole(name string, r TokenRole) {
	v.t.Helper()
	data := map[string]any{
		"allowed_policies": r.AllowedPolicies,
		"orphan":           r.Orphan,
		"renewable":        !r.NotRenewable,
	}
	putDuration(data, "token_period", r.Period)
	putDuration(data, "token_explicit_max_ttl", r.MaxTTL)
	v.write("auth/token/roles/"+name, data)
}

// TokenOptions describe a token to create. The zero value is a child of
// the root token with only the default policy and the system TTL (32
// days).
type TokenOptions struct {
	// Policies of the token; "default" is added unless NoDefaultPolicy.
	// Empty means only "default" (where Vault would give a child its
	// parent's policies, here root's), unless Role is set.
	Policies        []string
	NoDefaultPolicy bool
	// Role creates the token through the token role of that name.
	Role string
	// TTL is the token's lifetime, renewable up to ExplicitMaxTTL.
	TTL, ExplicitMaxTTL time.Duration
	// Period makes a periodic token.
	Period time.Duration
	// NotRenewable makes a token that cannot be renewed.
	NotRenewable bool
	// Orphan makes a token without a parent.
	Orphan bool
	// NumUses limits how many requests the token may make (0: no limit).
	NumUses int
	// DisplayName and Meta are stored with the token.
	DisplayName string
	Meta        map[string]string
}

// CreateToken creates a token with the root token and returns it.
func (v *Vault) CreateToken(o TokenOptions) string {
	v.t.Helper()
	renewable := !o.NotRenewable
	policies := o.Policies
	if len(policies) == 0 && o.Role == "" {
		policies = []string{"default"}
	}
	req := &api.TokenCreateRequest{
		Policies:        policies,
		NoDefaultPolicy: o.NoDefaultPolicy,
		TTL:             durationString(o.TTL),
		ExplicitMaxTTL:  durationString(o.ExplicitMaxTTL),
		Period:          durationString(o.Period),
		Renewable:       &renewable,
		NoParent:        o.Orphan,
		NumUses:         o.NumUses,
		DisplayName:     o.DisplayName,
		Metadata:        o.Meta,
	}
	var s *api.Secret
	var err error
	if o.Role != "" {
		s, err = v.internal.Auth().Token().CreateWithRole(req, o.Role)
	} else {
		s, err = v.internal.Auth().Token().Create(req)
	}
	if err != nil {
		v.t.Fatalf("vaulttest: create token: %v", err)
	}
	return s.Auth.ClientToken
}

// TokenInfo is what Vault knows of a token (auth/token/lookup).
type TokenInfo struct {
	Accessor    string
	DisplayName string
	// Policies are the token's policies, sorted.
	Policies []string
	// TTL is the time left; CreationTTL the TTL it was created or last
	// renewed with.
	TTL, CreationTTL time.Duration
	ExplicitMaxTTL   time.Duration
	Period           time.Duration
	Renewable        bool
	Orphan           bool
	// Role is the token role it was created through, if any.
	Role string
	// Path is the path that created it, e.g. "auth/token/create/tmplrun-task".
	Path       string
	NumUses    int
	ExpireTime time.Time // zero when it never expires
	Meta       map[string]string
}

// LookupToken looks token up with the root token. ok is false when the
// token does not exist (never did, expired or revoked).
func (v *Vault) LookupToken(token string) (info TokenInfo, ok bool) {
	v.t.Helper()
	s, err := v.internal.Auth().Token().Lookup(token)
	if err != nil {
		if isBadToken(err) {
			return TokenInfo{}, false
		}
		v.t.Fatalf("vaulttest: look up token: %v", err)
	}
	return tokenInfo(s.Data), true
}

// RevokeToken revokes token and every token created from it.
func (v *Vault) RevokeToken(token string) {
	v.t.Helper()
	if err := v.internal.Auth().Token().RevokeTree(token); err != nil {
		v.t.Fatalf("vaulttest: revoke token: %v", err)
	}
}

func isBadToken(err error) bool {
	var re *api.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	for _, e := range re.Errors {
		if strings.Contains(e, "bad token") || strings.Contains(e, "invalid token") {
			return true
		}
	}
	return false
}

func tokenInfo(d map[string]any) TokenInfo {
	info := TokenInfo{
		Accessor:       str(d["accessor"]),
		DisplayName:    str(d["display_name"]),
		Policies:       strs(d["policies"]),
		TTL:            secs(d["ttl"]),
		CreationTTL:    secs(d["creation_ttl"]),
		ExplicitMaxTTL: secs(d["explicit_max_ttl"]),
		Period:         secs(d["period"]),
		Renewable:      d["renewable"] == true,
		Orphan:         d["orphan"] == true,
		Role:           str(d["role"]),
		Path:           str(d["path"]),
		NumUses:        int(secs(d["num_uses"]) / time.Second),
	}
	sort.Strings(info.Policies)
	if t, err := time.Parse(time.RFC3339Nano, str(d["expire_time"])); err == nil {
		info.ExpireTime = t
	}
	if m, ok := d["meta"].(map[string]any); ok {
		info.Meta = map[string]string{}
		for k, val := range m {
			info.Meta[k] = str(val)
		}
	}
	return info
}

func str(x any) string {
	s, _ := x.(string)
	return s
}

func strs(x any) []string {
	l, _ := x.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, str(e))
	}
	return out
}

// secs reads a JSON number of seconds.
func secs(x any) time.Duration {
	n, ok := x.(json.Number)
	if !ok {
		return 0
	}
	i, _ := n.Int64()
	return time.Duration(i) * time.Second
}

func durationString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func putDuration(m map[string]any, key string, d time.Duration) {
	if d != 0 {
		m[key] = int64(d / time.Second)
	}
}
