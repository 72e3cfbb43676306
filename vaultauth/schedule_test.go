package vaultauth

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := Backoff{Min: time.Second, Max: time.Minute}
	tests := []struct {
		name    string
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{"first retry waits Min", 1, 0, time.Second},
		{"doubles", 2, 0, 2 * time.Second},
		{"doubles again", 4, 0, 8 * time.Second},
		{"capped at Max", 7, 0, time.Minute},
		{"stays capped far out", 1000, 0, time.Minute},
		{"jitter shortens by up to a quarter", 1, 0.5, 875 * time.Millisecond},
		{"jitter on the cap", 100, 0.999999, 45*time.Second + 15*time.Microsecond},
		{"attempt 0 behaves like 1", 0, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := b.Delay(tt.attempt, tt.rnd)
			if diff := tt.want - got; diff < -time.Microsecond || diff > time.Microsecond {
				t.Errorf("Delay(%d, %v) = %v, want %v", tt.attempt, tt.rnd, got, tt.want)
			}
		})
	}
}

func TestBackoffNeverExceedsMax(t *testing.T) {
	t.Parallel()
	b := Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Minute}
	prev := time.Duration(0)
	for attempt := 1; attempt < 200; attempt++ {
		d := b.Delay(attempt, 0)
		if d > b.Max || d < prev {
			t.Fatalf("attempt %d: delay %v (previous %v, max %v)", attempt, d, prev, b.Max)
		}
		prev = d
	}
}

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	s := DefaultSchedule
	hour := time.Hour
	renewable := Lease{TTL: hour, Base: hour, Renewable: true, Granted: t0}
	tests := []struct {
		name  string
		state TokenState
		now   time.Time
		rnd   float64
		want  Plan
	}{
		{
			name:  "no token yet: derive now",
			state: TokenState{Dead: true},
			now:   t0,
			want:  Plan{StepReplace, t0},
		},
		{
			name:  "revoked token: replace at once",
			state: TokenState{Lease: renewable, Dead: true, Hard: true},
			now:   t0.Add(time.Minute),
			want:  Plan{StepReplace, t0.Add(time.Minute)},
		},
		{
			name:  "replacement refused three times: hard backoff",
			state: TokenState{Dead: true, Failures: 3, Hard: true},
			now:   t0,
			want:  Plan{StepReplace, t0.Add(4 * time.Second)},
		},
		{
			name:  "replacement refused many times: capped at 5 min",
			state: TokenState{Dead: true, Failures: 30, Hard: true},
			now:   t0,
			want:  Plan{StepReplace, t0.Add(5 * time.Minute)},
		},
		{
			name:  "Vault unreachable many times while dead: capped at 1 min",
			state: TokenState{Dead: true, Failures: 30},
			now:   t0,
			want:  Plan{StepReplace, t0.Add(time.Minute)},
		},
		{
			name:  "never-expiring token: nothing to do",
			state: TokenState{Lease: Lease{Granted: t0}},
			now:   t0,
			want:  Plan{Step: StepNone},
		},
		{
			name:  "renewable: renew at 50 % with rnd 0",
			state: TokenState{Lease: renewable},
			now:   t0,
			want:  Plan{StepRenew, t0.Add(30 * time.Minute)},
		},
		{
			name:  "renewable: renew at 60 % with rnd 0.5",
			state: TokenState{Lease: renewable},
			now:   t0,
			rnd:   0.5,
			want:  Plan{StepRenew, t0.Add(36 * time.Minute)},
		},
		{
			name:  "3 s periodic token: renewed after 1.5 s",
			state: TokenState{Lease: Lease{TTL: 3 * time.Second, Base: 3 * time.Second, Renewable: true, Granted: t0}},
			now:   t0,
			want:  Plan{StepRenew, t0.Add(1500 * time.Millisecond)},
		},
		{
			name:  "renewal time already past: the plan says so, act at once",
			state: TokenState{Lease: renewable},
			now:   t0.Add(50 * time.Minute),
			want:  Plan{StepRenew, t0.Add(30 * time.Minute)},
		},
		{
			name:  "not renewable: replace at 80 %",
			state: TokenState{Lease: Lease{TTL: hour, Base: hour, Granted: t0}},
			now:   t0,
			want:  Plan{StepReplace, t0.Add(48 * time.Minute)},
		},
		{
			name:  "near max TTL (renewal granted 15 of 60 min): replace at 80 % of what is left",
			state: TokenState{Lease: Lease{TTL: 15 * time.Minute, Base: hour, Renewable: true, Granted: t0}},
			now:   t0,
			want:  Plan{StepReplace, t0.Add(12 * time.Minute)},
		},
		{
			name:  "renewal granted 59 of 60 min: capped, its expiry is fixed: replace at 80 %",
			state: TokenState{Lease: Lease{TTL: 59 * time.Minute, Base: hour, Renewable: true, Granted: t0}},
			now:   t0,
			want:  Plan{StepReplace, t0.Add(47*time.Minute + 12*time.Second)},
		},
		{
			name:  "renewal granted more than before: renewed",
			state: TokenState{Lease: Lease{TTL: hour, Base: hour, Renewable: true, Granted: t0}},
			now:   t0,
			want:  Plan{StepRenew, t0.Add(30 * time.Minute)},
		},
		{
			name:  "replacement of a short token: at least Slack (1 s) before expiry",
			state: TokenState{Lease: Lease{TTL: 3 * time.Second, Base: 4 * time.Second, Renewable: true, Granted: t0}},
			now:   t0,
			rnd:   0.9,
			want:  Plan{StepReplace, t0.Add(2 * time.Second)},
		},
		{
			name:  "replacement of a very short token: not before half its TTL",
			state: TokenState{Lease: Lease{TTL: time.Second, Base: time.Second, Granted: t0}},
			now:   t0,
			want:  Plan{StepReplace, t0.Add(500 * time.Millisecond)},
		},
		{
			name:  "allow_token_expiration: never renewed, expiry noted",
			state: TokenState{Lease: renewable, AllowExpiration: true},
			now:   t0,
			want:  Plan{StepExpire, t0.Add(hour)},
		},
		{
			name:  "allow_token_expiration after expiry: nothing more",
			state: TokenState{Lease: renewable, AllowExpiration: true},
			now:   t0.Add(hour),
			want:  Plan{Step: StepNone},
		},
		{
			name:  "renewal failed once, Vault unreachable: retry after 1 s",
			state: TokenState{Lease: renewable, Failures: 1},
			now:   t0.Add(30 * time.Minute),
			want:  Plan{StepRenew, t0.Add(30*time.Minute + time.Second)},
		},
		{
			name:  "renewal failed 5 times: 16 s",
			state: TokenState{Lease: renewable, Failures: 5},
			now:   t0.Add(30 * time.Minute),
			want:  Plan{StepRenew, t0.Add(30*time.Minute + 16*time.Second)},
		},
		{
			name:  "renewal retries never later than half the time left",
			state: TokenState{Lease: renewable, Failures: 20},
			now:   t0.Add(59 * time.Minute),
			want:  Plan{StepRenew, t0.Add(59*time.Minute + 30*time.Second)},
		},
		{
			name:  "renewal retries never sooner than Retry.Min",
			state: TokenState{Lease: renewable, Failures: 20},
			now:   t0.Add(hour - time.Second),
			want:  Plan{StepRenew, t0.Add(hour)},
		},
		{
			name:  "token expired while Vault was unreachable: replace with backoff",
			state: TokenState{Lease: renewable, Failures: 3},
			now:   t0.Add(hour),
			want:  Plan{StepReplace, t0.Add(hour + 4*time.Second)},
		},
		{
			name:  "replacement of a non-renewable token refused: retried while the old one lives",
			state: TokenState{Lease: Lease{TTL: hour, Base: hour, Granted: t0}, Failures: 2, Hard: true},
			now:   t0.Add(48 * time.Minute),
			want:  Plan{StepReplace, t0.Add(48*time.Minute + 2*time.Second)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := s.Next(tt.state, tt.now, tt.rnd)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Next() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A 3 s periodic token renewed on schedule for 20 s is renewed 7–13 times
// (every 1.5–2.1 s) and never replaced.
func TestScheduleRenewsPeriodicTokenRepeatedly(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	period := 3 * time.Second
	for _, rnd := range []float64{0, 0.5, 0.999} {
		state := TokenState{Lease: Lease{TTL: period, Base: period, Renewable: true, Granted: t0}}
		now, renewals := t0, 0
		for {
			p := DefaultSchedule.Next(state, now, rnd)
			if p.Step != StepRenew {
				t.Fatalf("rnd %v: step %v after %d renewals", rnd, p.Step, renewals)
			}
			if p.At.Sub(t0) > 20*time.Second {
				break
			}
			now = p.At
			state.Lease.Granted = now
			renewals++
		}
		if renewals < 9 || renewals > 13 {
			t.Errorf("rnd %v: %d renewals in 20 s, want 9–13", rnd, renewals)
		}
	}
}

func TestLeaseExpiry(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := (Lease{Granted: t0}).Expiry(); !got.IsZero() {
		t.Errorf("Expiry of a TTL-less lease = %v, want zero", got)
	}
	if got, want := (Lease{TTL: time.Minute, Granted: t0}).Expiry(), t0.Add(time.Minute); !got.Equal(want) {
		t.Errorf("Expiry = %v, want %v", got, want)
	}
}
