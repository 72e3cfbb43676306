package runner

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/template"
)

func dur(d time.Duration) *time.Duration { return &d }

func TestEffectiveWait(t *testing.T) {
	t.Parallel()
	node := &template.TemplateConfig{Wait: &template.Wait{Min: dur(5 * time.Second), Max: dur(4 * time.Minute)}}
	bounded := &template.TemplateConfig{
		Wait:       node.Wait,
		WaitBounds: &template.Wait{Min: dur(10 * time.Second), Max: dur(time.Minute)},
	}
	own := &template.Template{Wait: &template.Wait{Min: dur(2 * time.Second), Max: dur(10 * time.Second)}}
	none := &template.Template{}
	tests := []struct {
		name string
		t    *template.Template
		tc   *template.TemplateConfig
		want waitWindow
	}{
		{"the node's wait by default", none, node, waitWindow{5 * time.Second, 4 * time.Minute}},
		{"the template's own wait wins", own, node, waitWindow{2 * time.Second, 10 * time.Second}},
		{"wait_bounds clamp the node's wait", none, bounded, waitWindow{10 * time.Second, time.Minute}},
		{"wait_bounds clamp the template's wait", own, bounded, waitWindow{10 * time.Second, 10 * time.Second}},
		{"no wait at all", none, &template.TemplateConfig{}, waitWindow{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := effectiveWait(tc.t, tc.tc)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(waitWindow{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestQuiescenceDue(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	w := waitWindow{min: 5 * time.Second, max: 20 * time.Second}
	tests := []struct {
		name       string
		first, now time.Duration
		want       time.Duration
	}{
		{"min after the first change", 0, 0, 5 * time.Second},
		{"each change pushes it to min after the latest", 0, 3 * time.Second, 8 * time.Second},
		{"but never past max after the first", 0, 18 * time.Second, 20 * time.Second},
	}
	for _, tc := range tests {
		got := quiescenceDue(t0.Add(tc.first), t0.Add(tc.now), w)
		if !got.Equal(t0.Add(tc.want)) {
			t.Errorf("%s: due %v, want %v", tc.name, got.Sub(t0), tc.want)
		}
	}
}
