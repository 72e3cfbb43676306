package vaulttest_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

func TestDownAndUp(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	addr := v.Addr
	token := v.CreateToken(vaulttest.TokenOptions{TTL: time.Hour})
	c := v.Client()
	c.SetToken(token)
	if _, err := c.Auth().Token().LookupSelf(); err != nil { // opens a keep-alive connection
		t.Fatal(err)
	}

	v.Down()
	if v.IsUp() {
		t.Error("IsUp after Down")
	}
	if _, err := c.Auth().Token().LookupSelf(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("request while down: err = %v, want connection refused", err)
	}
	v.WriteKV("app", map[string]any{"during": "outage"}) // helpers still work

	v.Up()
	if v.Addr != addr {
		t.Errorf("Addr changed: %s, then %s", addr, v.Addr)
	}
	if _, err := c.Auth().Token().LookupSelf(); err != nil {
		t.Errorf("token after the outage: %v", err)
	}
	c.SetToken(v.RootToken)
	if got := readKV2(t, c, "app"); got["during"] != "outage" {
		t.Errorf("secret written during the outage = %v", got)
	}
}

func TestOutage(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	c := v.Client()

	back := v.Outage(300 * time.Millisecond)
	if _, err := c.Sys().Health(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("request during outage: err = %v, want connection refused", err)
	}
	select {
	case <-back:
	case <-time.After(10 * time.Second):
		t.Fatal("Vault not back 10s after a 300ms outage")
	}
	if _, err := c.Sys().Health(); err != nil {
		t.Errorf("request after outage: %v", err)
	}

	// Up ends an outage early; its channel is closed then.
	back = v.Outage(time.Hour)
	v.Up()
	select {
	case <-back:
	default:
		t.Error("Outage channel still open after Up")
	}
	if _, err := c.Sys().Health(); err != nil {
		t.Errorf("request after Up: %v", err)
	}
}
