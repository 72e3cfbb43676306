package vaultauth

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/vault/api"
)

// grant is what Vault said when it issued or renewed a token.
type grant struct {
	token     string
	accessor  string
	ttl       time.Duration
	renewable bool
	policies  []string
}

// source obtains, renews and checks the tokens of one holder: tmplrun's
// own login on a cluster, or a task. Errors are Vault client errors (or
// wrap them) so that classify can sort them.
type source interface {
	// obtain gets a new token: a login, or a task token derivation.
	obtain(ctx context.Context) (*grant, error)
	// renew renews token (auth/token/renew-self).
	renew(ctx context.Context, token string) (*grant, error)
	// verify checks that token still works (auth/token/lookup-self).
	verify(ctx context.Context, token string) error
}

// errNoAuth is returned when Vault answers a login or renewal without
// auth data.
var errNoAuth = errors.New("vault returned no token")

// grantFromAuth reads a login, create or renew response.
func grantFromAuth(s *api.Secret) (*grant, error) {
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, errNoAuth
	}
	return &grant{
		token:     s.Auth.ClientToken,
		accessor:  s.Auth.Accessor,
		ttl:       time.Duration(s.Auth.LeaseDuration) * time.Second,
		renewable: s.Auth.Renewable,
		policies:  s.Auth.Policies,
	}, nil
}

// grantFromLookup reads an auth/token/lookup-self response for token.
func grantFromLookup(token string, s *api.Secret) (*grant, error) {
	if s == nil || s.Data == nil {
		return nil, errNoAuth
	}
	ttl, err := s.TokenTTL()
	if err != nil {
		return nil, err
	}
	renewable, err := s.TokenIsRenewable()
	if err != nil {
		return nil, err
	}
	policies, err := s.TokenPolicies()
	if err != nil {
		return nil, err
	}
	accessor, err := s.TokenAccessor()
	if err != nil {
		return nil, err
	}
	return &grant{token: token, accessor: accessor, ttl: ttl, renewable: renewable, policies: policies}, nil
}

// tokenOps are the token calls every source shares, made with a client
// that carries the token in question.
type tokenOps struct {
	client func(token string) (*api.Client, error)
}

func (o tokenOps) renew(ctx context.Context, token string) (*grant, error) {
	c, err := o.client(token)
	if err != nil {
		return nil, err
	}
	s, err := c.Auth().Token().RenewSelfWithContext(ctx, 0)
	if err != nil {
		return nil, wrapVault("renew", err)
	}
	g, err := grantFromAuth(s)
	if err != nil {
		return nil, wrapVault("renew", err)
	}
	return g, nil
}

func (o tokenOps) verify(ctx context.Context, token string) error {
	c, err := o.client(token)
	if err != nil {
		return err
	}
	_, err = c.Auth().Token().LookupSelfWithContext(ctx)
	return wrapVault("look up token", err)
}

func (o tokenOps) revoke(ctx context.Context, token string) error {
	c, err := o.client(token)
	if err != nil {
		return err
	}
	return wrapVault("revoke", c.Auth().Token().RevokeSelfWithContext(ctx, ""))
}
