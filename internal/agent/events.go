package agent

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tmplrun/tmplrun/internal/logging"
	"github.com/tmplrun/tmplrun/internal/status"
	"github.com/tmplrun/tmplrun/internal/supervisor"
	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// reporter counts the events of the runner, vaultauth and the supervisor
// in the metrics, and logs the supervisor's (the runner and vaultauth log
// their own, one line per event). None of those events carries a secret;
// nothing here adds one.
type reporter struct {
	log     *slog.Logger
	metrics *status.Metrics
}

func (r *reporter) runnerEvent(e runner.Event) {
	m := r.metrics
	switch e.Kind {
	case runner.KindRendered:
		m.Renders.WithLabelValues(e.Task, e.Template).Inc()
	case runner.KindRenderError:
		m.RenderErrors.WithLabelValues(e.Task, e.Template).Inc()
	case runner.KindChange:
		m.ChangeActions.WithLabelValues(e.Task, e.Mode).Inc()
	}
}

func (r *reporter) tokenEvent(e vaultauth.Event) {
	task := e.Task
	if task == "" {
		task = "tmplrun"
	}
	m := r.metrics
	switch e.Kind {
	case vaultauth.EventRenewed:
		m.TokenRenewals.WithLabelValues(task).Inc()
	case vaultauth.EventObtained, vaultauth.EventReplaced:
		m.TokensIssued.WithLabelValues(task).Inc()
	case vaultauth.EventRenewFailed, vaultauth.EventObtainFailed:
		m.TokenErrors.WithLabelValues(task).Inc()
	}
}

func (r *reporter) processEvent(task string, e supervisor.Event) {
	level, msg := slog.LevelInfo, ""
	switch e.Kind {
	case supervisor.Started:
		msg = fmt.Sprintf("process started (pid %d)", e.PID)
	case supervisor.StartFailed:
		level = slog.LevelError
		msg = fmt.Sprintf("process could not start: %v; trying again in %s", e.Err, e.Delay)
	case supervisor.Exited:
		level = slog.LevelWarn
		msg = fmt.Sprintf("process (pid %d) exited on its own %s after %s; starting it again in %s", e.PID, howEnded(e), e.Ran.Round(time.Millisecond), e.Delay)
		r.metrics.Restarts.WithLabelValues(task, "exit").Inc()
	case supervisor.Restarting:
		msg = "restarting process: " + e.Reason
		r.metrics.Restarts.WithLabelValues(task, "change").Inc()
	case supervisor.Stopped:
		msg = fmt.Sprintf("process (pid %d) stopped %s", e.PID, howEnded(e))
		if e.Killed {
			level = slog.LevelWarn
			msg += " — it ignored its kill_signal and was killed after kill_timeout"
		}
	}
	r.log.Log(context.Background(), level, msg, logging.KeyTask, task, logging.KeyEvent, string(e.Kind))
}

func howEnded(e supervisor.Event) string {
	if e.Signal != "" {
		return "by signal " + e.Signal
	}
	return fmt.Sprintf("with exit code %d", e.ExitCode)
}
