package vaultauth

import (
	"fmt"
	"log/slog"
	"time"
)

// EventKind names what happened to a token.
type EventKind string

// Event kinds, one per line of the CLI's output.
const (
	EventObtained     EventKind = "token obtained"    // first token: tmplrun logged in, or a task's token derived
	EventRenewed      EventKind = "token renewed"     // TTL extended; same token
	EventReplaced     EventKind = "token replaced"    // a new token replaced a dead or exhausted one
	EventRenewFailed  EventKind = "renewal failed"    // Hard says whether Vault refused the token
	EventObtainFailed EventKind = "obtain failed"     // login or derivation failed; retried after Retry
	EventUnreachable  EventKind = "vault unreachable" // first failure to reach Vault after a success
	EventReachable    EventKind = "vault reachable"   // Vault answered again after EventUnreachable
	EventExpired      EventKind = "token expired"     // allow_token_expiration: the token was let go
	EventRevoked      EventKind = "token revoked"     // the task stopped for good
	EventFileError    EventKind = "token file error"  // secrets/vault_token could not be written
)

// Event is one thing that happened to a token. It never holds the token,
// a secret_id or a JWT.
type Event struct {
	Time    time.Time
	Cluster string
	// Task is the task the token belongs to; "" for tmplrun's own token.
	Task string
	Kind EventKind
	// Generation is the token's generation (see Token).
	Generation int
	// TTL is the token's time to live after this event, when known.
	TTL time.Duration
	// Hard: Vault refused (EventRenewFailed, EventObtainFailed).
	Hard bool
	// Retry is how long until the next attempt after a failure.
	Retry time.Duration
	Err   error
}

// String is the event as one line, e.g. "vault token renewed (ttl 1h0m0s)".
func (e Event) String() string {
	who := "vault token"
	if e.Task == "" {
		who = "tmplrun's own vault token (cluster " + e.Cluster + ")"
	}
	switch e.Kind {
	case EventObtained:
		return fmt.Sprintf("%s obtained (ttl %s)", who, ttlString(e.TTL))
	case EventRenewed:
		return fmt.Sprintf("%s renewed (ttl %s)", who, ttlString(e.TTL))
	case EventReplaced:
		return fmt.Sprintf("%s replaced by a new one (ttl %s)", who, ttlString(e.TTL))
	case EventRenewFailed:
		kind := "will retry"
		if e.Hard {
			kind = "token refused, deriving a new one"
		}
		return fmt.Sprintf("%s renewal failed (%s): %v", who, kind, e.Err)
	case EventObtainFailed:
		return fmt.Sprintf("%s: could not obtain a new token, retrying in %s: %v", who, e.Retry.Round(time.Millisecond), e.Err)
	case EventUnreachable:
		held := "keeping the current token"
		if e.Generation == 0 {
			held = "no token yet"
		}
		return fmt.Sprintf("vault unreachable, %s, retrying in %s: %v", held, e.Retry.Round(time.Millisecond), e.Err)
	case EventReachable:
		return "vault reachable again"
	case EventExpired:
		return fmt.Sprintf("%s expired (allow_token_expiration)", who)
	case EventRevoked:
		return fmt.Sprintf("%s revoked", who)
	case EventFileError:
		return fmt.Sprintf("%s file not written: %v", who, e.Err)
	}
	return fmt.Sprintf("%s: %s", who, e.Kind)
}

func ttlString(d time.Duration) string {
	if d <= 0 {
		return "never expires"
	}
	return d.Round(time.Second).String()
}

// level is the slog level an event is logged at.
func (e Event) level() slog.Level {
	switch e.Kind {
	case EventRenewFailed, EventObtainFailed, EventUnreachable, EventExpired:
		return slog.LevelWarn
	case EventFileError:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// attrs are the event's fields for slog.
func (e Event) attrs() []slog.Attr {
	a := []slog.Attr{
		slog.String("cluster", e.Cluster),
		slog.String("event", string(e.Kind)),
		slog.Int("generation", e.Generation),
	}
	if e.Task != "" {
		a = append(a, slog.String("task", e.Task))
	}
	if e.TTL > 0 {
		a = append(a, slog.Duration("ttl", e.TTL))
	}
	if e.Retry > 0 {
		a = append(a, slog.Duration("retry", e.Retry))
	}
	if e.Err != nil {
		a = append(a, slog.String("error", e.Err.Error()))
	}
	return a
}
