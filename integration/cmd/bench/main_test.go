package main

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	ctconfig "github.com/hashicorp/consul-template/config"

	"github.com/tmplrun/tmplrun/template"
)

func TestAggregates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		agg  aggregate
		vs   []float64
		want float64
	}{
		{"median of an odd count", aggMedian, []float64{3, 1, 2}, 2},
		{"median of an even count", aggMedian, []float64{4, 1, 3, 2}, 2.5},
		{"mean", aggMean, []float64{1, 2, 6}, 3},
		{"max", aggMax, []float64{1, 7, 2}, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.agg.of(tc.vs); got != tc.want {
				t.Errorf("%s of %v = %v, want %v", tc.agg, tc.vs, got, tc.want)
			}
		})
	}
	if !math.IsNaN(aggMedian.of(nil)) {
		t.Error("the median of nothing is a number")
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	rows := []row{
		{scenario: "S1", metric: "wall time", unit: unitSeconds, peer: []float64{1, 1.2, 0.9}, ours: []float64{0.5, 0.4, 0.6}},
		{scenario: "S1", metric: "peak RSS", unit: unitMB, peer: []float64{24 << 20}, ours: []float64{36 << 20}, floor: "—"},
		{scenario: "S5", metric: "RSS", unit: unitMB, ours: []float64{200 << 20}, peerNote: "not run"},
		{scenario: "S2", metric: "latency", unit: unitSeconds, agg: aggMax, peer: []float64{1.5}, ours: []float64{0.9}},
	}
	var b bytes.Buffer
	writeTable(&b, rows)
	want := []string{
		"| S1 | wall time | 1.00 s | 500 ms | 0.50 |  |",
		"| S1 | peak RSS | 24 MB | 36 MB | 1.50 | — |",
		"| S5 | RSS | not run | 200 MB | — |  |",
		"| S2 | latency (max) | 1.50 s | 900 ms | 0.60 |  |",
		"- S1, wall time: 1.00 s, 1.20 s, 900 ms | 500 ms, 400 ms, 600 ms",
	}
	for _, line := range want {
		if !strings.Contains(b.String(), line+"\n") {
			t.Errorf("table lacks %q:\n%s", line, b.String())
		}
	}
}

// The configs both systems get parse with their own parsers, and say
// the same: the same templates, destinations and re-read setting.
func TestConfigsParse(t *testing.T) {
	t.Parallel()
	w := workload{name: "t", tasks: 2, templates: 3, secrets: 4}
	s := settings{lease: 5 * time.Second}
	root := t.TempDir()
	cfg, err := template.Parse(filepath.Join(root, "tmplrun.hcl"), []byte(tmplrunConfig("http://127.0.0.1:8200", w, s)), nil)
	if err != nil {
		t.Fatalf("tmplrun config: %v", err)
	}
	if len(cfg.Tasks) != 2 || cfg.TemplateConfig.VaultDefaultLeaseDuration != 5*time.Second {
		t.Fatalf("tmplrun config: %d tasks, lease %v", len(cfg.Tasks), cfg.TemplateConfig.VaultDefaultLeaseDuration)
	}
	for i, task := range cfg.Tasks {
		peer, err := ctconfig.Parse(peerConfig("http://127.0.0.1:8200", "root", root, w, i, s))
		if err != nil {
			t.Fatalf("consul-template config: %v", err)
		}
		peer.Finalize()
		if *peer.Vault.RenewToken || *peer.Vault.DefaultLeaseDuration != 5*time.Second || *peer.Wait.Enabled {
			t.Errorf("consul-template vault/wait settings: %+v %+v", peer.Vault, peer.Wait)
		}
		var ours, theirs []string
		for j, tm := range task.Templates {
			if tm.Splay != 0 || tm.ChangeMode != template.ChangeModeNoop {
				t.Errorf("template %d: splay %v, change_mode %s", j, tm.Splay, tm.ChangeMode)
			}
			ours = append(ours, filepath.Join(task.Dir, tm.Destination)+"\n"+tm.Data)
		}
		for _, tm := range *peer.Templates {
			theirs = append(theirs, *tm.Destination+"\n"+*tm.Contents)
		}
		if diff := cmp.Diff(ours, theirs); diff != "" {
			t.Errorf("task %d: templates differ (-tmplrun +consul-template):\n%s", i, diff)
		}
	}
	if tmplrunConfig("x", w, settings{}) == tmplrunConfig("x", w, s) {
		t.Error("the lease setting changes nothing")
	}
}

func TestCapBufferCountsGoroutinesOfTheLastTrace(t *testing.T) {
	t.Parallel()
	c := newCapBuffer(1 << 10)
	trace := func(live, dead int) string {
		var b strings.Builder
		b.WriteString("SCHED 1000ms: gomaxprocs=2 idleprocs=2 threads=5\n  P0: status=0\n")
		for i := 0; i < live; i++ {
			b.WriteString("  G1: status=4(select) m=nil lockedm=nil\n")
		}
		for i := 0; i < dead; i++ {
			b.WriteString("  G9: status=6() m=nil lockedm=nil\n")
		}
		return b.String()
	}
	if n, traces := c.goroutines(); n != -1 || traces != 0 {
		t.Fatalf("before any trace: %d, %d traces", n, traces)
	}
	// Written in pieces that split lines, as a pipe may.
	out := "log line\n" + trace(5, 2) + trace(7, 1) + trace(3, 0)
	for len(out) > 0 {
		k := min(17, len(out))
		c.Write([]byte(out[:k]))
		out = out[k:]
	}
	if n, traces := c.goroutines(); n != 7 || traces != 2 {
		t.Errorf("goroutines %d of %d complete traces, want 7 of 2 (the last trace is not complete yet)", n, traces)
	}
}
