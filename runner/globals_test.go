package runner

import (
	"bytes"
	"log"
	"log/slog"
	"os"
	"os/exec"
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

// TestConsulTemplateLogGoesToSlogAtDebug runs a runner in a process of its
// own (the log package and consul-template's settings are process-wide)
// and writes a line through the log package as consul-template does. It
// must never reach stderr raw: only as a debug record, when debug is on.
func TestConsulTemplateLogGoesToSlogAtDebug(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode string
		// want: the line is on stderr, as a debug record.
		want bool
	}{
		{"default", false}, // slog's default logger, level info
		{"default-debug", true},
		{"set-default", false}, // slog.SetDefault(an info handler)
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestLogRoutingHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), "TMPLRUN_LOG_HELPER="+tc.mode)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if out, err := cmd.Output(); err != nil {
				t.Fatalf("helper: %v\n%s\n%s", err, out, stderr.String())
			}
			var line string
			for _, l := range strings.Split(stderr.String(), "\n") {
				if strings.Contains(l, "helper-probe") {
					line = l
				}
			}
			switch {
			case !tc.want && line != "":
				t.Errorf("the line reached stderr: %q", line)
			case tc.want && (!strings.Contains(line, "level=DEBUG") || !strings.Contains(line, "component=consul-template")):
				t.Errorf("want a debug record on stderr, got %q in:\n%s", line, stderr.String())
			}
		})
	}
}

// TestLogRoutingHelper is the process TestConsulTemplateLogGoesToSlogAtDebug
// starts.
func TestLogRoutingHelper(t *testing.T) {
	m := os.Getenv("TMPLRUN_LOG_HELPER")
	if m == "" {
		t.Skip("run by TestConsulTemplateLogGoesToSlogAtDebug")
	}
	switch m {
	case "default-debug":
		slog.SetLogLoggerLevel(slog.LevelDebug)
	case "set-default":
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	}
	cfg := testConfig(t)
	cfg.Logger = nil
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.Stop()
	log.Printf("[WARN] (view) vault.read(secret/data/x): helper-probe")
}
