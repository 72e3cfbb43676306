package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestText(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := New(&buf, "text", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.With(KeyTask, "web").Info("template secrets/app.env re-rendered; restarting (change_mode=restart)",
		KeyEvent, "change", KeyTemplate, "secrets/app.env", "pid", 42)
	log.Debug("hidden")
	log.Warn("vault unreachable", "error", "dial tcp: connection refused")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), buf.String())
	}
	want := []string{
		"INFO  web: template secrets/app.env re-rendered; restarting (change_mode=restart)",
		`WARN  tmplrun: vault unreachable`,
	}
	for i, line := range lines {
		if got := line[len("2006-01-02T15:04:05.000Z "):]; got != want[i] {
			t.Errorf("line %d = %q, want %q", i, got, want[i])
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := New(&buf, "json", slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	log.With(KeyTask, "web").Info("template local/a re-rendered", KeyEvent, "rendered", KeyTemplate, "local/a")
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	delete(got, "time")
	want := map[string]any{"level": "INFO", "task": "web", "event": "rendered", "template": "local/a", "message": "template local/a re-rendered"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON line (-want +got):\n%s", diff)
	}
}

func TestBadOptions(t *testing.T) {
	t.Parallel()
	if _, err := New(nil, "xml", slog.LevelInfo); err == nil {
		t.Error("format xml accepted")
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("level loud accepted")
	}
	if l, err := ParseLevel("debug"); err != nil || l != slog.LevelDebug {
		t.Errorf("debug = %v, %v", l, err)
	}
}
