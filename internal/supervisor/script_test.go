package supervisor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name       string
		script     string
		timeout    time.Duration
		wantCode   int
		wantErr    string
		wantTimout bool
	}{
		{"ok", `echo "$PWD $VALUE" > out`, time.Second, 0, "", false},
		{"non-zero", `exit 2`, time.Second, 2, "exit status 2", false},
		{"timeout", `sleep 30`, 100 * time.Millisecond, -1, "timed out after 100ms", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sub := filepath.Join(dir, tc.name)
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			res := RunScript(context.Background(), Script{
				Command: "/bin/sh", Args: []string{"-c", tc.script},
				Dir: sub, Env: []string{"VALUE=v1"}, Timeout: tc.timeout,
			})
			if res.ExitCode != tc.wantCode || res.TimedOut != tc.wantTimout {
				t.Errorf("result = %+v, want code %d timedOut %v", res, tc.wantCode, tc.wantTimout)
			}
			if tc.wantErr == "" && res.Err != nil || tc.wantErr != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", res.Err, tc.wantErr)
			}
			if tc.name == "ok" {
				got, _ := os.ReadFile(filepath.Join(sub, "out"))
				if want := sub + " v1\n"; string(got) != want {
					t.Errorf("script saw %q, want %q (dir and env)", got, want)
				}
			}
		})
	}
}

func TestRunScriptMissingCommand(t *testing.T) {
	t.Parallel()
	res := RunScript(context.Background(), Script{Command: "/does/not/exist", Dir: t.TempDir(), Timeout: time.Second})
	if res.Err == nil || res.ExitCode != -1 {
		t.Errorf("result = %+v, want a start error", res)
	}
}
