package vaultauth

import "time"

// State is where a token's life stands, for the status page.
type State string

// States of a token holder.
const (
	StateIdle        State = "idle"              // tmplrun's own token: not logged in (no task has needed it yet)
	StateStarting    State = "starting"          // no token yet
	StateHealthy     State = "healthy"           // valid token, last call succeeded
	StateRenewing    State = "renewing"          // a renewal failed (Vault answered with an error); retrying
	StateUnreachable State = "vault unreachable" // Vault could not be reached; the current token is kept
	StateRederiving  State = "re-deriving"       // the token is dead or near its end; obtaining a new one
	StateExpired     State = "expired"           // allow_token_expiration: the token expired and was let go
	StateStopped     State = "stopped"
)

// Status is a snapshot of one token holder — tmplrun's own token on a
// cluster, or a task's. It never holds the token.
type Status struct {
	Cluster string
	// Task is "" for tmplrun's own token.
	Task  string
	State State
	// Generation counts the tokens obtained so far (see Token).
	Generation int
	Policies   []string
	// TTL is what Vault granted at the last issue or renewal; 0 means the
	// token never expires.
	TTL       time.Duration
	Renewable bool
	// Expires is when the token expires (zero: never).
	Expires time.Time
	// Obtained is when the current token was issued.
	Obtained time.Time
	// LastRenewal is the last successful renewal (zero: none yet).
	LastRenewal time.Time
	// Renewals counts successful renewals of all generations.
	Renewals int
	// Next is the next planned step and when.
	Next Plan
	// Failures counts consecutive failed attempts; LastError is the last
	// one's message (empty after a success).
	Failures  int
	LastError string
}

// Remaining is how long the token has left at now: 0 when it has expired
// or there is none, -1 when it never expires.
func (s Status) Remaining(now time.Time) time.Duration {
	switch {
	case s.Generation == 0:
		return 0
	case s.Expires.IsZero():
		return -1
	case now.After(s.Expires):
		return 0
	}
	return s.Expires.Sub(now)
}
