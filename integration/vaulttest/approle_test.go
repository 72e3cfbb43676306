package vaulttest_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

func TestAppRole(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("web", webPolicy)
	creds := v.AppRole("tmplrun", vaulttest.AppRole{Policies: []string{"web"}, TokenTTL: time.Hour})
	second := v.NewSecretID("tmplrun")
	c := v.Client()
	c.ClearToken()

	tests := []struct {
		name     string
		secretID string
		wantErr  bool
	}{
		{name: "first secret_id", secretID: creds.SecretID},
		{name: "second secret_id", secretID: second},
		{name: "wrong secret_id", secretID: "not-a-secret-id", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := c.Logical().Write("auth/approle/login", map[string]any{
				"role_id": creds.RoleID, "secret_id": tt.secretID,
			})
			if tt.wantErr {
				if err == nil {
					t.Fatal("login: no error")
				}
				return
			}
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if diff := cmp.Diff([]string{"default", "web"}, s.Auth.Policies); diff != "" {
				t.Errorf("policies (-want +got):\n%s", diff)
			}
			if got := time.Duration(s.Auth.LeaseDuration) * time.Second; got != time.Hour {
				t.Errorf("token TTL = %v, want 1h", got)
			}
		})
	}
}
