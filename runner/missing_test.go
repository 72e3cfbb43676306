package runner

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMissingReporter(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type step struct {
		at          float64
		set         []string
		wantReport  bool
		wantRecheck float64 // seconds after t0; -1 for none
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "dependencies that arrive within the first interval are never reported",
			steps: []step{
				{at: 0, set: []string{"vault.read(a)"}, wantRecheck: 3},
				{at: 0.2, set: nil, wantRecheck: -1},
			},
		},
		{
			name: "a set still missing after the interval is reported once",
			steps: []step{
				{at: 0, set: []string{"vault.read(a)"}, wantRecheck: 3},
				{at: 3, set: []string{"vault.read(a)"}, wantReport: true, wantRecheck: -1},
				{at: 10, set: []string{"vault.read(a)"}, wantRecheck: -1},
			},
		},
		{
			name: "a change within 3 s of the last report waits for the interval",
			steps: []step{
				{at: 5, set: []string{"vault.read(a)"}, wantReport: true, wantRecheck: -1},
				{at: 6, set: []string{"vault.read(a)", "vault.read(b)"}, wantRecheck: 8},
				{at: 8, set: []string{"vault.read(a)", "vault.read(b)"}, wantReport: true, wantRecheck: -1},
			},
		},
		{
			name: "a change that reverts before the interval is not reported",
			steps: []step{
				{at: 5, set: []string{"vault.read(a)"}, wantReport: true, wantRecheck: -1},
				{at: 6, set: []string{"vault.read(b)"}, wantRecheck: 8},
				{at: 7, set: []string{"vault.read(a)"}, wantRecheck: -1},
			},
		},
		{
			name: "once empty, the same set missing again is reported again",
			steps: []step{
				{at: 5, set: []string{"vault.read(a)"}, wantReport: true, wantRecheck: -1},
				{at: 6, set: nil, wantRecheck: -1},
				{at: 9, set: []string{"vault.read(a)"}, wantReport: true, wantRecheck: -1},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := missingReporter{since: t0}
			for _, s := range tc.steps {
				report, recheck, next := m.observe(s.set, at(s.at))
				m = next
				want := time.Time{}
				if s.wantRecheck >= 0 {
					want = at(s.wantRecheck)
				}
				if report != s.wantReport || !recheck.Equal(want) {
					t.Errorf("at %vs with %v: report=%v recheck=%v, want %v %v", s.at, s.set, report, recheck, s.wantReport, want)
				}
			}
		})
	}
}

func TestMissingMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		deps []string
		want string
	}{
		{[]string{"vault.read(secret/data/db)"}, "missing vault.read(secret/data/db) — waiting"},
		{[]string{"a", "b", "c"}, "missing a, b, c — waiting"},
		{[]string{"a", "b", "c", "d", "e"}, "missing a, b, c and 2 more — waiting"},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, missingMessage(tc.deps)); diff != "" {
			t.Errorf("missingMessage(%v) (-want +got):\n%s", tc.deps, diff)
		}
	}
}
