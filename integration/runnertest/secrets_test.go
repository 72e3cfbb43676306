package runnertest

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
)

// syncBuffer is a bytes.Buffer for a log handler used by several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSecretValuesNeverReachEventsStatusOrLogs(t *testing.T) {
	v := startVault(t)
	v.WriteKV("db", map[string]any{"port": "hunter2-port", "password": "hunter2-password"})
	cfg := config(t, v, taskToken(v),
		// parseInt chokes on the secret, whose value the error quotes.
		tmpl("local/port.conf", `port={{ with secret "secret/data/db" }}{{ .Data.data.port | parseInt }}{{ end }}`, template.ChangeModeNoop),
		// the same, transformed beyond recognition first.
		tmpl("local/upper.conf", `{{ with secret "secret/data/db" }}{{ .Data.data.password | toUpper | parseInt }}{{ end }}`, template.ChangeModeNoop),
		tmpl("local/ok.conf", `{{ with secret "secret/data/db" }}ok{{ end }}`, template.ChangeModeNoop),
	)
	var logs syncBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ev := newEvents()
	cfg.Events = ev
	r := start(t, cfg)
	ev.wait(t, "port.conf error", func(e runner.Event) bool { return e.Kind == runner.KindRenderError && e.Template == "local/port.conf" })
	ev.wait(t, "upper.conf error", func(e runner.Event) bool { return e.Kind == runner.KindRenderError && e.Template == "local/upper.conf" })
	ev.wait(t, "ok.conf rendered", rendered("local/ok.conf"))

	var texts []string
	for _, e := range ev.list() {
		texts = append(texts, e.Message)
	}
	for _, ts := range r.Status().Templates {
		texts = append(texts, ts.LastError)
	}
	texts = append(texts, logs.String())
	for _, s := range texts {
		if strings.Contains(strings.ToLower(s), "hunter2") {
			t.Errorf("a secret leaked: %q", s)
		}
	}
	if e := r.Status().Templates[0].LastError; !strings.Contains(e, "parseInt") || !strings.Contains(e, "[redacted]") {
		t.Errorf("status error %q: want parseInt named and the value redacted", e)
	}
}
