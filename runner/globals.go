package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
//     level, with component=consul-template ([TRACE] lines are dropped) —
//     also when that logger is slog's default one (nil Logger): since
//     slog's default handler writes through the log package, the lines
//     are then written to stderr as debug records by a text handler of
//     our own, shown only when slog's default level lets debug through
//     (slog.SetLogLoggerLevel). This redirects the global log package for
//     the whole process: other users of log get the same treatment. It is
//     done when log still writes to os.Stderr or to slog (slog.SetDefault
//     routes it there, at info level); an embedder that pointed log at a
//     writer of its own keeps its routing.
var (
	globalsOnce sync.Once
	globalLease time.Duration
)

func setProcessGlobals(lease time.Duration, logger *slog.Logger) {
	globalsOnce.Do(func() {
		globalLease = lease
		dep.SetVaultDefaultLeaseDuration(lease)
		dep.SetVaultLeaseRenewalThreshold(0.9)
		if w := logWriter(log.Writer(), logger, os.Stderr); w != nil {
			log.SetFlags(0)
			log.SetOutput(w)
		}
	})
	if lease != globalLease {
		logger.Warn("vault_default_lease_duration is process-wide in consul-template; keeping the first runner's",
			"wanted", lease, "kept", globalLease)
	}
}

// logWriter is where the log package should write consul-template's
// lines (current is where it writes now, stderr the process's stderr), or
// nil to leave it alone.
func logWriter(current io.Writer, logger *slog.Logger, stderr io.Writer) io.Writer {
	if current != stderr && !isSlogBridge(current) {
		return nil // the embedder routed log itself
	}
	if isDefaultSlog(logger) {
		// Its records go through the log package: they would come back.
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: defaultSlogLevel{}}))
	}
	return slogWriter{logger.With("component", "consul-template")}
}

// isSlogBridge reports whether w is slog's writer behind the log package
// (installed by slog.SetDefault).
func isSlogBridge(w io.Writer) bool {
	return fmt.Sprintf("%T", w) == "*slog.handlerWriter"
}

// defaultSlogLevel is slog's default logger's level (see
// slog.SetLogLoggerLevel), as far as debug records are concerned.
type defaultSlogLevel struct{}

func (defaultSlogLevel) Level() slog.Level {
	if slog.Default().Enabled(context.Background(), slog.LevelDebug) {
		return slog.LevelDebug
	}
	return slog.LevelInfo
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
