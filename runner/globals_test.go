package runner

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestSlogWriterRoutesConsulTemplateLinesAtDebug(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := slogWriter{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, line := range []string{"[TRACE] (view) vault.read(x) starting fetch\n", "[WARN] (view) vault.read(x): retrying\n"} {
		if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	out := buf.String()
	if strings.Contains(out, "TRACE") {
		t.Errorf("a [TRACE] line got through: %s", out)
	}
	if !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "retrying") {
		t.Errorf("the [WARN] line is not a debug record: %s", out)
	}
	if !isDefaultSlog(slog.New(slog.Default().Handler())) || isDefaultSlog(slog.New(slog.DiscardHandler)) {
		t.Error("isDefaultSlog does not tell slog's default handler apart")
	}
}
