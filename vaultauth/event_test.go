package vaultauth

import (
	"errors"
	"testing"
	"time"
)

func TestUnreachableSaysWhetherATokenIsHeld(t *testing.T) {
	t.Parallel()
	err := errors.New("connection refused")
	for _, c := range []struct {
		name string
		gen  int
		want string
	}{
		{"before the first token", 0, "vault unreachable, no token yet, retrying in 1s: connection refused"},
		{"with a token", 3, "vault unreachable, keeping the current token, retrying in 1s: connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Event{Kind: EventUnreachable, Generation: c.gen, Retry: time.Second, Err: err}.String()
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
