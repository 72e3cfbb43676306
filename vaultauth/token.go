package vaultauth

import (
	"fmt"
	"log/slog"
	"time"
)

// Token is a Vault token tmplrun obtained. Its secret is reachable only
// through Secret: printing a Token (%v, %+v, %#v) or logging it with slog
// shows its generation, never the secret.
type Token struct {
	secret string
	// Generation counts the tokens of one holder: 1 for the first, +1 for
	// each replacement. Renewals keep the generation.
	Generation int
	// Obtained is when Vault issued it.
	Obtained time.Time
	// Policies are the token's policies as Vault reported them.
	Policies []string
}

// Secret is the token itself, for the Vault client and the task.
func (t Token) Secret() string { return t.secret }

// IsZero reports whether t holds no token.
func (t Token) IsZero() bool { return t.secret == "" }

// String names the token without showing it.
func (t Token) String() string {
	if t.IsZero() {
		return "no vault token"
	}
	return fmt.Sprintf("vault token #%d", t.Generation)
}

// GoString keeps %#v from printing the secret.
func (t Token) GoString() string { return "vaultauth.Token{" + t.String() + "}" }

// Format keeps every fmt verb from printing the secret.
func (t Token) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, t.GoString())
		return
	}
	fmt.Fprint(f, t.String())
}

// LogValue keeps slog from printing the secret.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("generation", t.Generation),
		slog.Time("obtained", t.Obtained),
	)
}
