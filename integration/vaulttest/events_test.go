package vaulttest_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// Vault 1.14 drops an event when the request that caused it has finished
// before the subscriber's socket writer took it (see README.md): write
// until one arrives.
func TestEventsKVWrite(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	sub := v.Subscribe("kv-v2/data-write")
	c := v.Client()

	var ev vaulttest.Event
	written := map[string]bool{}
	for attempt := 0; ; attempt++ {
		if attempt == 20 {
			t.Fatalf("no kv-v2/data-write event after %d KV v2 writes over HTTP", attempt)
		}
		s, err := c.Logical().Write("secret/data/web/config", map[string]any{"data": map[string]any{"n": attempt}})
		if err != nil {
			t.Fatal(err)
		}
		version, _ := s.Data["version"].(json.Number)
		written[version.String()] = true
		var ok bool
		if ev, ok = sub.Next(time.Second); ok {
			break
		}
	}
	if ev.Type != "kv-v2/data-write" || ev.Plugin != "kv" || ev.MountPath != "secret/" || ev.ID == "" {
		t.Errorf("event type %q plugin %q mount %q id %q; want kv-v2/data-write, kv, secret/, an id",
			ev.Type, ev.Plugin, ev.MountPath, ev.ID)
	}
	if ev.Metadata["path"] != "data/web/config" {
		t.Errorf("event path = %q, want data/web/config (relative to the mount)", ev.Metadata["path"])
	}
	if !written[ev.Metadata["current_version"]] {
		t.Errorf("event current_version = %q, not one of the versions written %v", ev.Metadata["current_version"], written)
	}
	if strings.Contains(string(ev.Raw), `"n"`) {
		t.Errorf("event carries secret data: %s", ev.Raw)
	}
	if _, err := strconv.Atoi(ev.Metadata["oldest_version"]); err != nil {
		t.Errorf("event oldest_version = %q, want a number", ev.Metadata["oldest_version"])
	}
}

func TestEventsNeedPolicy(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("events", `path "sys/events/subscribe/kv-v2/*" { capabilities = ["read"] }`)
	tests := []struct {
		name     string
		policies []string
		wantErr  bool
	}{
		{name: "default policy only", policies: nil, wantErr: true},
		{name: "read on sys/events/subscribe", policies: []string{"events"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := v.CreateToken(vaulttest.TokenOptions{Policies: tt.policies})
			sub, err := v.SubscribeToken(token, "kv-v2/data-write")
			if tt.wantErr {
				if err == nil {
					sub.Close()
					t.Fatal("subscribe: no error")
				}
				return
			}
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			sub.Close()
		})
	}
}

func TestEventsSubscriptionEndsWhenDown(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	sub := v.Subscribe("kv-v2/*")
	v.Down()
	select {
	case _, ok := <-sub.C:
		if ok {
			t.Error("event received while going down")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscription still open 10s after Down")
	}
	v.Up()
	again, err := v.SubscribeToken(v.RootToken, "kv-v2/*")
	if err != nil {
		t.Fatalf("subscribe again after Up: %v", err)
	}
	again.Close()
}
