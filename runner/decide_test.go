package runner

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecideRender(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	w := waitWindow{min: 2 * time.Second, max: 10 * time.Second}
	pending := quiet{first: t0.Add(-3 * time.Second), due: t0.Add(time.Second), fp: 7}
	tests := []struct {
		name  string
		in    renderInput
		q     quiet
		want  outcome
		wantQ quiet
	}{
		{name: "first render: written at once, whatever the wait",
			in: renderInput{first: true, dataChanged: true, outputChanged: true, wait: w, fp: 7, now: t0}, want: outcomeWrite},
		{name: "first render clears a pending wait",
			in: renderInput{first: true, outputChanged: true, wait: w, fp: 7, now: t0}, q: pending, want: outcomeWrite},
		{name: "identical output: write (puts back mode and owner), nothing scheduled",
			in: renderInput{dataChanged: true, wait: w, fp: 7, now: t0}, q: pending, want: outcomeWrite},
		{name: "identical output, no new data",
			in: renderInput{wait: w, now: t0}, want: outcomeWrite},
		{name: "output changed without new data: unstable, nothing scheduled",
			in: renderInput{outputChanged: true, wait: w, fp: 7, now: t0}, want: outcomeUnstable},
		{name: "unstable without a wait too",
			in: renderInput{outputChanged: true, now: t0}, want: outcomeUnstable},
		{name: "unstable although its timer fired",
			in: renderInput{outputChanged: true, fired: true, wait: w, now: t0}, want: outcomeUnstable},
		{name: "new data, no wait: written at once",
			in: renderInput{dataChanged: true, outputChanged: true, fp: 7, now: t0}, want: outcomeWrite},
		{name: "new data with a wait: scheduled min after it",
			in:   renderInput{dataChanged: true, outputChanged: true, wait: w, fp: 7, now: t0},
			want: outcomeWait, wantQ: quiet{first: t0, due: t0.Add(2 * time.Second), fp: 7}},
		{name: "the same data again keeps the schedule",
			in: renderInput{dataChanged: true, outputChanged: true, wait: w, fp: 7, now: t0}, q: pending,
			want: outcomeWait, wantQ: pending},
		{name: "newer data moves it, no later than max after the first",
			in: renderInput{dataChanged: true, outputChanged: true, wait: w, fp: 8, now: t0.Add(7 * time.Second)}, q: pending,
			want: outcomeWait, wantQ: quiet{first: pending.first, due: pending.first.Add(10 * time.Second), fp: 8}},
		{name: "the timer fired: written",
			in: renderInput{dataChanged: true, outputChanged: true, fired: true, wait: w, fp: 7, now: t0}, q: pending,
			want: outcomeWrite},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, q := decideRender(tc.in, tc.q)
			if got != tc.want {
				t.Errorf("outcome = %v, want %v", got, tc.want)
			}
			if diff := cmp.Diff(tc.wantQ, q, cmp.AllowUnexported(quiet{})); diff != "" {
				t.Errorf("quiet (-want +got):\n%s", diff)
			}
		})
	}
}
