package vaulttest_test

import (
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

func TestDatabaseDynamicCredentials(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	path := v.DatabaseRole("app", vaulttest.DatabaseRole{DefaultTTL: 10 * time.Second, MaxTTL: 30 * time.Second})
	if path != "database/creds/app" {
		t.Errorf("creds path = %q, want database/creds/app", path)
	}
	pg := v.Postgres()
	c := v.Client()

	s, err := c.Logical().Read(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	user, _ := s.Data["username"].(string)
	pass, _ := s.Data["password"].(string)
	if user == "" || pass == "" {
		t.Fatalf("%s returned no username or password", path)
	}
	if s.LeaseID == "" || !s.Renewable || s.LeaseDuration != 10 {
		t.Errorf("lease: id %q renewable %v duration %ds, want a renewable 10s lease", s.LeaseID, s.Renewable, s.LeaseDuration)
	}

	if err := pg.Login(user, pass); err != nil {
		t.Errorf("PostgreSQL login with issued credentials: %v", err)
	}
	if err := pg.Login(user, "wrong"); err == nil {
		t.Error("PostgreSQL login with a wrong password: no error")
	}

	// Renewal extends the lease, but never past max TTL.
	r, err := c.Sys().Renew(s.LeaseID, 3600)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	if r.LeaseDuration <= 0 || r.LeaseDuration > 30 {
		t.Errorf("renewed lease duration = %ds, want in (0, 30] (capped by max TTL)", r.LeaseDuration)
	}

	// A second read issues different credentials on a new lease.
	s2, err := c.Logical().Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if s2.LeaseID == s.LeaseID || s2.Data["username"] == user {
		t.Error("second read returned the same lease or user")
	}

	// Revoking the lease drops the PostgreSQL role.
	if err := c.Sys().Revoke(s.LeaseID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := pg.Login(user, pass); err == nil {
		t.Error("PostgreSQL login after revocation: no error")
	}
	if _, err := c.Sys().Lookup(s.LeaseID); err == nil {
		t.Error("lease still exists after revocation")
	}
}
