package runner

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLogAttrs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		e    Event
		want []any
	}{
		{"kind only", Event{Kind: KindFirstRender}, []any{"event", "first-render"}},
		{"a restart", Event{Kind: KindChange, Template: "local/a", Mode: "restart"},
			[]any{"event", "change", "template", "local/a", "mode", "restart"}},
		{"a signal for a new token", Event{Kind: KindChange, Mode: "signal", Signal: "SIGHUP", Token: true},
			[]any{"event", "change", "mode", "signal", "signal", "SIGHUP", "token", true}},
		{"a script that ran", Event{Kind: KindChangeDone, Template: "local/a", Mode: "script", Duration: 20 * time.Millisecond},
			[]any{"event", "change-done", "template", "local/a", "mode", "script", "exit_code", 0, "duration", 20 * time.Millisecond}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, logAttrs(c.e)); diff != "" {
				t.Errorf("logAttrs (-want +got):\n%s", diff)
			}
		})
	}
}
