package runner

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"sync"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"
)

// consul-template keeps some settings in process-wide variables, set once:
// the lease knobs of its Vault dependencies and its logging, which goes
// through the standard library's global log package. They are applied here,
// once per process, by the first New:
//
//   - vault_default_lease_duration (how often secrets without a lease, KV
//     v2, are re-read) is the first runner's; later runners with another
//     value get a warning and the first value;
//   - the renewal threshold of non-renewable leases is consul-template's
//     default (0.9);
//   - consul-template's log lines go to the first runner's logger at debug
//     level, with component=consul-template ([TRACE] lines are dropped).
//     This redirects the global log package for the whole process, so it
//     is done only when nobody redirected it before (its writer is still
//     os.Stderr); an embedder that routes log itself keeps its routing.
var (
	globalsOnce  sync.Once
	globalLease  time.Duration
	globalLogger *slog.Logger
)

func setProcessGlobals(lease time.Duration, logger *slog.Logger) {
	globalsOnce.Do(func() {
		globalLease = lease
		dep.SetVaultDefaultLeaseDuration(lease)
		dep.SetVaultLeaseRenewalThreshold(0.9)
		if log.Writer() == os.Stderr && !isDefaultSlog(logger) {
			globalLogger = logger.With("component", "consul-template")
			log.SetFlags(0)
			log.SetOutput(slogWriter{globalLogger})
		}
	})
	if lease != globalLease {
		logger.Warn("vault_default_lease_duration is process-wide in consul-template; keeping the first runner's",
			"wanted", lease, "kept", globalLease)
	}
}

// isDefaultSlog reports whether l writes through the log package itself
// (slog's default handler): routing log into it would loop.
func isDefaultSlog(l *slog.Logger) bool {
	return fmt.Sprintf("%T", l.Handler()) == "*slog.defaultHandler"
}

// slogWriter turns consul-template's "[LEVEL] message" lines into debug
// records.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	line := bytes.TrimRight(p, "\n")
	if bytes.HasPrefix(line, []byte("[TRACE]")) {
		return len(p), nil
	}
	if w.l.Enabled(context.Background(), slog.LevelDebug) {
		w.l.Debug(string(line))
	}
	return len(p), nil
}
