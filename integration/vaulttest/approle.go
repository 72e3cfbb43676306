package vaulttest

import "time"

// AppRoleMount is where AppRole enables the AppRole auth method.
const AppRoleMount = "approle"

// AppRole describes an AppRole role (auth/approle/role/NAME).
type AppRole struct {
	// Policies of the tokens a login returns.
	Policies []string
	// TokenTTL and TokenMaxTTL bound those tokens; TokenPeriod makes
	// them periodic.
	TokenTTL, TokenMaxTTL, TokenPeriod time.Duration
	// SecretIDTTL and SecretIDNumUses bound each secret_id (0: no limit).
	SecretIDTTL     time.Duration
	SecretIDNumUses int
}

// AppRoleCredentials are what a client logs in with at
// auth/approle/login.
type AppRoleCredentials struct {
	RoleID   string
	SecretID string
}

// AppRole enables the AppRole auth method at auth/approle (once), writes
// the role name and returns its role_id and a new secret_id.
func (v *Vault) AppRole(name string, r AppRole) AppRoleCredentials {
	v.t.Helper()
	v.enable(true, AppRoleMount, "approle")
	data := map[string]any{
		"token_policies":     r.Policies,
		"secret_id_num_uses": r.SecretIDNumUses,
	}
	putDuration(data, "token_ttl", r.TokenTTL)
	putDuration(data, "token_max_ttl", r.TokenMaxTTL)
	putDuration(data, "token_period", r.TokenPeriod)
	putDuration(data, "secret_id_ttl", r.SecretIDTTL)
	path := "auth/" + AppRoleMount + "/role/" + name
	v.write(path, data)
	s := v.read(path + "/role-id")
	if s == nil {
		v.t.Fatalf("vaulttest: AppRole %s has no role_id", name)
	}
	return AppRoleCredentials{RoleID: str(s.Data["role_id"]), SecretID: v.NewSecretID(name)}
}

// NewSecretID returns a new secret_id for the AppRole role name.
func (v *Vault) NewSecretID(role string) string {
	v.t.Helper()
	s := v.write("auth/"+AppRoleMount+"/role/"+role+"/secret-id", nil)
	if s == nil {
		v.t.Fatalf("vaulttest: AppRole %s: no secret_id issued", role)
	}
	return str(s.Data["secret_id"])
}
