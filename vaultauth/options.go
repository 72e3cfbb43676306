package vaultauth

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Options tune a Cluster. The zero value is ready to use.
type Options struct {
	// Logger receives every event (see Event) and a few debug lines; nil
	// discards them. Nothing logged holds a token, a secret_id or a JWT.
	Logger *slog.Logger

	// OnEvent, when set, receives every event (the CLI prints one line per
	// event). It is called synchronously on the goroutine that keeps the
	// token; it must return quickly and must not call Stop or Close.
	OnEvent func(Event)

	// Schedule is the renewal and retry policy; the zero value means
	// DefaultSchedule.
	Schedule Schedule

	// Getenv reads tmplrun's own environment; nil means os.Getenv. It is
	// consulted for exactly two variables: VAULT_ADDR when a vault block
	// has no address, and VAULT_TOKEN when the token auth method has no
	// token_file. Nothing else is taken from the environment (no
	// VAULT_CACERT, VAULT_SKIP_VERIFY, VAULT_NAMESPACE, …): the vault
	// block says everything.
	Getenv func(string) string

	// WrapTransport, when set, wraps the HTTP transport of every Vault
	// client built for the cluster (to count or time requests).
	WrapTransport func(http.RoundTripper) http.RoundTripper

	// Timeout bounds each Vault request; 0 means 30 s.
	Timeout time.Duration

	// Node is the tmplrun_node claim of workload identities; "" means the
	// host name.
	Node string

	// for tests
	clock clock
	rand  func() float64
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Schedule == (Schedule{}) {
		o.Schedule = DefaultSchedule
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Node == "" {
		o.Node, _ = os.Hostname()
	}
	if o.clock == nil {
		o.clock = realClock{}
	}
	if o.rand == nil {
		o.rand = randFloat
	}
	return o
}
