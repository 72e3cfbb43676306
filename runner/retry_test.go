package runner

import (
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/template"
)

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	forever := retryFrom(&template.Retry{Attempts: 0, Backoff: 250 * time.Millisecond, MaxBackoff: time.Minute})
	three := retryFrom(&template.Retry{Attempts: 3, Backoff: time.Second, MaxBackoff: 3 * time.Second})
	tests := []struct {
		name      string
		p         retryPolicy
		failures  int
		jitter    float64
		wantRetry bool
		wantWait  time.Duration
	}{
		{"first failure waits the backoff", forever, 1, 0.999999999, true, 250 * time.Millisecond},
		{"the backoff doubles", forever, 3, 0.999999999, true, time.Second},
		{"up to max_backoff", forever, 20, 0.999999999, true, time.Minute},
		{"attempts 0 retries forever", forever, 10000, 0.999999999, true, time.Minute},
		{"jitter takes off up to a quarter", forever, 20, 0, true, 45 * time.Second},
		{"the last allowed retry", three, 3, 0.999999999, true, 3 * time.Second},
		{"then no more", three, 4, 0.5, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			retry, wait := tc.p.next(tc.failures, tc.jitter)
			if retry != tc.wantRetry || wait.Round(time.Millisecond) != tc.wantWait {
				t.Errorf("next(%d) = %v, %v; want %v, %v", tc.failures, retry, wait, tc.wantRetry, tc.wantWait)
			}
		})
	}
}

func TestRetryFromDefaults(t *testing.T) {
	t.Parallel()
	p := retryFrom(nil)
	if p.attempts != 0 || p.backoff != 250*time.Millisecond || p.maxBackoff != time.Minute {
		t.Errorf("default policy %+v, want forever, 250ms → 1m", p)
	}
}
