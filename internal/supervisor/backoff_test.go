package supervisor

import (
	"testing"
	"time"
)

func TestRestartDelay(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		failures     int
		ran          time.Duration
		want         time.Duration
		wantFailures int
	}{
		{"first crash", 0, time.Second, time.Second, 1},
		{"second crash", 1, time.Second, 2 * time.Second, 2},
		{"fifth crash", 4, 0, 16 * time.Second, 5},
		{"capped", 10, 0, 30 * time.Second, 11},
		{"stable run resets", 10, time.Minute, time.Second, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, f := restartDelay(tc.failures, tc.ran)
			if got != tc.want || f != tc.wantFailures {
				t.Errorf("restartDelay(%d, %s) = %s, %d; want %s, %d", tc.failures, tc.ran, got, f, tc.want, tc.wantFailures)
			}
		})
	}
}
