package vaulttest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/vault/api"
	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

const (
	webPolicy = `path "secret/data/web/*" { capabilities = ["read"] }`
	dbPolicy  = `path "secret/data/db*" { capabilities = ["read"] }`
)

func TestTokenRoleDerivesTaskTokens(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("web", webPolicy)
	v.PutPolicy("db", dbPolicy)
	v.CreateTokenRole("tmplrun-task", vaulttest.TokenRole{
		AllowedPolicies: []string{"web", "db"},
		Orphan:          true,
		Period:          time.Hour,
	})
	v.WriteKV("web/config", map[string]any{"greeting": "hello"})
	v.WriteKV("db", map[string]any{"password": "pw"})

	// tmplrun's own token may create task tokens through the role.
	v.PutPolicy("tmplrun", `path "auth/token/create/tmplrun-task" { capabilities = ["create", "update"] }`)
	parent := v.Client()
	parent.SetToken(v.CreateToken(vaulttest.TokenOptions{Policies: []string{"tmplrun"}}))

	s, err := parent.Auth().Token().CreateWithRole(&api.TokenCreateRequest{Policies: []string{"web"}}, "tmplrun-task")
	if err != nil {
		t.Fatalf("derive task token: %v", err)
	}
	task := s.Auth.ClientToken

	info, ok := v.LookupToken(task)
	if !ok {
		t.Fatal("task token not found")
	}
	want := vaulttest.TokenInfo{
		Policies: []string{"default", "web"},
		// Vault's lookup shows "period" only for tokens created with an
		// explicit period; the role's period appears as creation_ttl.
		CreationTTL: time.Hour,
		Renewable:   true,
		Orphan:      true,
		Role:        "tmplrun-task",
		Path:        "auth/token/create/tmplrun-task",
	}
	ignore := cmpopts.IgnoreFields(vaulttest.TokenInfo{}, "Accessor", "DisplayName", "TTL", "ExpireTime", "Meta")
	if diff := cmp.Diff(want, info, ignore); diff != "" {
		t.Errorf("task token (-want +got):\n%s", diff)
	}

	c := v.Client()
	c.SetToken(task)
	if got := readKV2(t, c, "web/config"); got["greeting"] != "hello" {
		t.Errorf("task token reads secret/data/web/config = %v, want greeting=hello", got)
	}
	if _, err := c.Logical().Read("secret/data/db"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("task token reads secret/data/db: err = %v, want permission denied", err)
	}

	// A policy outside allowed_policies is refused.
	_, err = parent.Auth().Token().CreateWithRole(&api.TokenCreateRequest{Policies: []string{"root"}}, "tmplrun-task")
	if err == nil {
		t.Error("derive a root task token: no error")
	}

	// The task token is an orphan: revoking its creator leaves it.
	v.RevokeToken(parent.Token())
	if _, ok := v.LookupToken(task); !ok {
		t.Error("orphan task token revoked with its creator")
	}
}

func TestCreateToken(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("a", `path "auth/token/lookup-self" { capabilities = ["read"] }`)
	tests := []struct {
		name string
		opts vaulttest.TokenOptions
		want vaulttest.TokenInfo
	}{
		{
			name: "ttl",
			opts: vaulttest.TokenOptions{Policies: []string{"a"}, TTL: time.Hour},
			want: vaulttest.TokenInfo{Policies: []string{"a", "default"}, CreationTTL: time.Hour, Renewable: true},
		},
		{
			name: "not renewable",
			opts: vaulttest.TokenOptions{TTL: time.Minute, NotRenewable: true},
			want: vaulttest.TokenInfo{Policies: []string{"default"}, CreationTTL: time.Minute},
		},
		{
			name: "periodic",
			opts: vaulttest.TokenOptions{Period: 3 * time.Second},
			want: vaulttest.TokenInfo{Policies: []string{"default"}, CreationTTL: 3 * time.Second, Period: 3 * time.Second, Renewable: true},
		},
		{
			name: "orphan with explicit max ttl",
			opts: vaulttest.TokenOptions{TTL: time.Minute, ExplicitMaxTTL: 2 * time.Minute, Orphan: true},
			want: vaulttest.TokenInfo{Policies: []string{"default"}, CreationTTL: time.Minute, ExplicitMaxTTL: 2 * time.Minute, Renewable: true, Orphan: true},
		},
		{
			name: "no default policy, uses, meta",
			opts: vaulttest.TokenOptions{Policies: []string{"a"}, NoDefaultPolicy: true, NumUses: 5, Meta: map[string]string{"task": "web"}},
			want: vaulttest.TokenInfo{Policies: []string{"a"}, CreationTTL: 768 * time.Hour, Renewable: true, NumUses: 4 /* one used by lookup-self */, Meta: map[string]string{"task": "web"}},
		},
	}
	ignore := cmpopts.IgnoreFields(vaulttest.TokenInfo{}, "Accessor", "DisplayName", "TTL", "ExpireTime", "Path")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token := v.CreateToken(tt.opts)

			// The token is real over HTTP: it can look itself up.
			c := v.Client()
			c.SetToken(token)
			s, err := c.Auth().Token().LookupSelf()
			if err != nil {
				t.Fatalf("lookup-self over HTTP: %v", err)
			}
			if got, _ := s.TokenID(); got != token {
				t.Errorf("lookup-self id = %q, want the token", got)
			}

			info, ok := v.LookupToken(token)
			if !ok {
				t.Fatal("LookupToken: not found")
			}
			if diff := cmp.Diff(tt.want, info, ignore); diff != "" {
				t.Errorf("token (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRevokeToken(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("creator", `path "auth/token/create" { capabilities = ["update"] }`)
	parent := v.CreateToken(vaulttest.TokenOptions{Policies: []string{"creator"}, TTL: time.Hour})
	c := v.Client()
	c.SetToken(parent)
	s, err := c.Auth().Token().Create(&api.TokenCreateRequest{TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	child := s.Auth.ClientToken

	v.RevokeToken(parent)

	for name, token := range map[string]string{"parent": parent, "child": child} {
		if _, ok := v.LookupToken(token); ok {
			t.Errorf("%s token still exists after RevokeToken(parent)", name)
		}
		c.SetToken(token)
		if _, err := c.Auth().Token().LookupSelf(); err == nil {
			t.Errorf("%s token still works over HTTP after RevokeToken(parent)", name)
		}
	}
	if _, ok := v.LookupToken("hvs.never-issued"); ok {
		t.Error("LookupToken found a token that was never issued")
	}
}
