package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// bench holds what every scenario shares.
type bench struct {
	v       *vaulttest.Vault
	systems []system // consul-template first: A B A B …
	work    string   // scratch dir, one subdir per run
	quick   bool     // fewer repetitions, shorter windows
	log     io.Writer
	runs    int
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: "+format+"\n", args...)
}

// root is a fresh directory for one run.
func (b *bench) root(scenario string, sys system) string {
	b.runs++
	return filepath.Join(b.work, fmt.Sprintf("%02d-%s-%s", b.runs, scenario, sys.name()))
}

// reps is n, or 1 in quick mode.
func (b *bench) reps(n int) int {
	if b.quick {
		return 1
	}
	return n
}

// idleLease is the re-read setting of S3 and S4.
const idleLease = 5 * time.Second

// window is how long idle cost is measured: a whole number of re-read
// periods (0.9 × idleLease each), so that the count of re-reads does not
// depend on where the window falls — the secrets of a task were first
// read together, and are re-read together, ± a few percent.
func (b *bench) window() time.Duration {
	period := idleLease * 9 / 10
	if b.quick {
		return period
	}
	return 5 * period // 22.5 s
}

// series collects one metric for both systems (index as b.systems).
type series [2][]float64

// s1 is the first render: `tmplrun render` against `consul-template
// -once`, one task of w.templates templates over w.secrets secrets.
func (b *bench) s1(w workload, reps int) ([]row, error) {
	w.seed(b.v, "g1")
	var wall, cpu, rss, reqs series
	var breakdown [2]vaulttest.Requests
	for rep := 0; rep < reps; rep++ {
		for k, sys := range b.systems {
			root := b.root(w.name, sys)
			b.v.ResetRequests()
			p, err := sys.render(root, w, settings{})
			if err != nil {
				return nil, err
			}
			if err := p.wait(10 * time.Minute); err != nil {
				return nil, err
			}
			got := b.v.Requests()
			res, err := p.result()
			if err != nil {
				return nil, err
			}
			if pending := check(w.wants(root, "g1")); len(pending) > 0 {
				return nil, fmt.Errorf("%s: %d files not rendered (first %s)", sys.name(), len(pending), pending[0].path)
			}
			wall[k] = append(wall[k], res.Wall.Seconds())
			rss[k] = append(rss[k], float64(res.MaxRSS))
			cpu[k] = append(cpu[k], res.CPU.Seconds())
			reqs[k] = append(reqs[k], float64(got.Total()))
			breakdown[k] = got
			b.logf("%s %s rep %d: %.2fs (CPU %.2fs), peak RSS %.0f MB, %d Vault requests", w.name, sys.name(), rep+1,
				res.Wall.Seconds(), res.CPU.Seconds(), float64(res.MaxRSS)/(1<<20), got.Total())
			os.RemoveAll(root)
		}
	}
	for k, sys := range b.systems {
		b.logf("%s %s: Vault requests of the last run:\n%s", w.name, sys.name(), summarize(breakdown[k]))
	}
	sc := fmt.Sprintf("S1 first render, %d tpl / %d secrets", w.templates, w.secrets)
	return []row{
		{scenario: sc, metric: "wall time", unit: unitSeconds, peer: wall[0], ours: wall[1]},
		{scenario: sc, metric: "CPU", unit: unitSeconds, peer: cpu[0], ours: cpu[1]},
		{scenario: sc, metric: "peak RSS", unit: unitMB, peer: rss[0], ours: rss[1]},
		{scenario: sc, metric: "Vault requests", unit: unitCount, peer: reqs[0], ours: reqs[1],
			floor: fmt.Sprintf("%d = %d reads + login (tmplrun: %d, + task token)", w.secrets+1, w.secrets, w.secrets+2)},
	}, nil
}

// s2 is change latency: both watching, KV v2 re-read every ~0.9 s, no
// wait, no splay; a secret is written and the time until its file holds
// the new value is measured.
func (b *bench) s2(w workload, reps, changes int) ([]row, error) {
	s := settings{lease: time.Second}
	var lat series
	for rep := 0; rep < reps; rep++ {
		for k, sys := range b.systems {
			w.seed(b.v, "g0") // the previous run changed them
			root := b.root(w.name, sys)
			in, err := sys.watch(root, w, s)
			if err != nil {
				return nil, err
			}
			if _, err := waitFiles(w.wants(root, "g0"), 20*time.Millisecond, 2*time.Minute, in.procs...); err != nil {
				in.stop()
				return nil, err
			}
			for n := 0; n < changes; n++ {
				// A random pause, so that writes fall anywhere in the
				// re-read period.
				time.Sleep(300*time.Millisecond + rand.N(time.Second))
				i := n % w.secrets
				gen := fmt.Sprintf("c%d-%d-%d", k, rep, n)
				w.write(b.v, i, gen)
				written := time.Now()
				x := want{path: w.file(root, 0, i), line: []byte("value=" + w.value(i, gen) + "\n")}
				seen, err := waitFiles([]want{x}, time.Millisecond, 30*time.Second, in.procs...)
				if err != nil {
					in.stop()
					return nil, err
				}
				lat[k] = append(lat[k], seen.Sub(written).Seconds())
			}
			in.stop()
			b.logf("%s %s rep %d: latencies %s", w.name, sys.name(), rep+1, values(unitSeconds, lat[k][len(lat[k])-changes:]))
			os.RemoveAll(root)
		}
	}
	sc := fmt.Sprintf("S2 change latency, re-read %s (%d changes each)", s.lease, len(lat[1]))
	floor := "≈ 0.45 s: re-read every ~0.9 s"
	return []row{
		{scenario: sc, metric: "write → file", unit: unitSeconds, peer: lat[0], ours: lat[1], floor: floor},
		{scenario: sc, metric: "write → file", unit: unitSeconds, agg: aggMean, peer: lat[0], ours: lat[1], floor: "≈ 0.45 s"},
		{scenario: sc, metric: "write → file", unit: unitSeconds, agg: aggMax, peer: lat[0], ours: lat[1], floor: "≈ 0.95 s"},
	}, nil
}

// idle is what S3 and S4 measure of a watching system once everything
// has rendered.
type idle struct {
	first      series // first render of everything, seconds
	reqRate    series // Vault requests per second
	cpu        series // CPU seconds in the window
	rss, peak  series // bytes at the end of the window
	goroutines series
}

// measureIdle runs w on both systems, alternately, reps times: start,
// wait for every file, settle, then measure a window.
func (b *bench) measureIdle(w workload, s settings, reps int) (*idle, error) {
	w.seed(b.v, "g0")
	m := &idle{}
	window := b.window()
	for rep := 0; rep < reps; rep++ {
		for k, sys := range b.systems {
			root := b.root(w.name, sys)
			started := time.Now() // consul-template starts a process per task
			in, err := sys.watch(root, w, s)
			if err != nil {
				return nil, err
			}
			done, err := waitFiles(w.wants(root, "g0"), 50*time.Millisecond, 10*time.Minute, in.procs...)
			if err != nil {
				in.stop()
				return nil, err
			}
			m.first[k] = append(m.first[k], done.Sub(started).Seconds())
			marks := in.traces()
			time.Sleep(3 * time.Second) // let the first render's aftermath settle
			b.v.ResetRequests()
			cpu0, err := in.cpu()
			if err != nil {
				in.stop()
				return nil, err
			}
			t0 := time.Now()
			time.Sleep(window)
			cpu1, err := in.cpu()
			elapsed := time.Since(t0)
			reqs := b.v.Requests()
			if err != nil {
				in.stop()
				return nil, err
			}
			rss, peak, err := in.memory()
			if err != nil {
				in.stop()
				return nil, err
			}
			g, err := in.goroutines(marks)
			in.stop()
			if err != nil {
				return nil, err
			}
			m.reqRate[k] = append(m.reqRate[k], float64(reqs.Total())/elapsed.Seconds())
			m.cpu[k] = append(m.cpu[k], (cpu1 - cpu0).Seconds())
			m.rss[k] = append(m.rss[k], rss)
			m.peak[k] = append(m.peak[k], peak)
			m.goroutines[k] = append(m.goroutines[k], g)
			b.logf("%s %s rep %d: first render %.2fs; over %s: %.1f req/s, CPU %.2fs, RSS %.0f MB (peak %.0f), %.0f goroutines",
				w.name, sys.name(), rep+1, done.Sub(started).Seconds(), window, float64(reqs.Total())/elapsed.Seconds(),
				(cpu1 - cpu0).Seconds(), rss/(1<<20), peak/(1<<20), g)
			b.logf("%s %s: Vault requests in the window:\n%s", w.name, sys.name(), summarize(reqs))
			os.RemoveAll(root)
		}
	}
	return m, nil
}

// s3 is idle cost: one task, watching, 5 s re-read.
func (b *bench) s3(w workload, reps int) ([]row, error) {
	s := settings{lease: idleLease}
	m, err := b.measureIdle(w, s, reps)
	if err != nil {
		return nil, err
	}
	sc := fmt.Sprintf("S3 idle, %d tpl / %d secrets, re-read %s", w.templates, w.secrets, s.lease)
	win := fmt.Sprintf("CPU over %s", b.window())
	return []row{
		{scenario: sc, metric: "Vault requests/s", unit: unitPerSecond, peer: m.reqRate[0], ours: m.reqRate[1],
			floor: fmt.Sprintf("%.1f /s = %d secrets / (0.9 × %s)", float64(w.secrets)/(0.9*s.lease.Seconds()), w.secrets, s.lease)},
		{scenario: sc, metric: win, unit: unitSeconds, peer: m.cpu[0], ours: m.cpu[1]},
		{scenario: sc, metric: "RSS", unit: unitMB, peer: m.rss[0], ours: m.rss[1]},
		{scenario: sc, metric: "peak RSS", unit: unitMB, peer: m.peak[0], ours: m.peak[1]},
	}, nil
}

// s4 is many tasks: one tmplrun process against one consul-template
// process per task.
func (b *bench) s4(w workload, reps int) ([]row, error) {
	s := settings{lease: idleLease}
	m, err := b.measureIdle(w, s, reps)
	if err != nil {
		return nil, err
	}
	sc := fmt.Sprintf("S4 %d tasks × %d tpl / %d secrets, re-read %s", w.tasks, w.templates, w.secrets, s.lease)
	distinct := w.tasks * min(w.templates, w.secrets)
	return []row{
		{scenario: sc, metric: "total RSS", unit: unitMB, peer: m.rss[0], ours: m.rss[1]},
		{scenario: sc, metric: "total peak RSS", unit: unitMB, peer: m.peak[0], ours: m.peak[1]},
		{scenario: sc, metric: "Vault requests/s", unit: unitPerSecond, peer: m.reqRate[0], ours: m.reqRate[1],
			floor: fmt.Sprintf("%.1f /s = %d task×secret reads / (0.9 × %s)", float64(distinct)/(0.9*s.lease.Seconds()), distinct, s.lease)},
		{scenario: sc, metric: "goroutines", unit: unitCount, peer: m.goroutines[0], ours: m.goroutines[1]},
		{scenario: sc, metric: fmt.Sprintf("CPU over %s", b.window()), unit: unitSeconds, peer: m.cpu[0], ours: m.cpu[1]},
		{scenario: sc, metric: "first render, all tasks", unit: unitSeconds, peer: m.first[0], ours: m.first[1]},
	}, nil
}

// s5 is scale: tmplrun alone with many tasks (as many consul-template
// processes would not fit the machine), default re-read (5m).
func (b *bench) s5(w workload, reps int) ([]row, error) {
	w.seed(b.v, "g0")
	ours := b.systems[1]
	var first, rss, peak, gor, reqs []float64
	for rep := 0; rep < reps; rep++ {
		root := b.root(w.name, ours)
		b.v.ResetRequests()
		started := time.Now()
		in, err := ours.watch(root, w, settings{})
		if err != nil {
			return nil, err
		}
		done, err := waitFiles(w.wants(root, "g0"), 100*time.Millisecond, 10*time.Minute, in.procs...)
		if err != nil {
			in.stop()
			return nil, err
		}
		marks := in.traces()
		time.Sleep(5 * time.Second)
		r, p, err := in.memory()
		if err != nil {
			in.stop()
			return nil, err
		}
		n := b.v.Requests().Total()
		g, err := in.goroutines(marks)
		in.stop()
		if err != nil {
			return nil, err
		}
		first = append(first, done.Sub(started).Seconds())
		rss = append(rss, r)
		peak = append(peak, p)
		gor = append(gor, g)
		reqs = append(reqs, float64(n))
		b.logf("%s tmplrun rep %d: first render %.2fs, RSS %.0f MB (peak %.0f), %.0f goroutines, %d Vault requests",
			w.name, rep+1, done.Sub(started).Seconds(), r/(1<<20), p/(1<<20), g, n)
		os.RemoveAll(root)
	}
	sc := fmt.Sprintf("S5 %d tasks × %d tpl / %d secrets (tmplrun only)", w.tasks, w.templates, w.secrets)
	na := "not run (1 process per task)"
	return []row{
		{scenario: sc, metric: "RSS", unit: unitMB, ours: rss, peerNote: na, floor: "target < 500 MB"},
		{scenario: sc, metric: "peak RSS", unit: unitMB, ours: peak, peerNote: na},
		{scenario: sc, metric: "goroutines", unit: unitCount, ours: gor, peerNote: na},
		{scenario: sc, metric: "first render, all tasks", unit: unitSeconds, ours: first, peerNote: na},
		{scenario: sc, metric: "Vault requests, start to settled", unit: unitCount, ours: reqs, peerNote: na,
			floor: fmt.Sprintf("%d = login + %d task tokens + %d reads", 1+w.tasks+w.tasks*min(w.templates, w.secrets), w.tasks, w.tasks*min(w.templates, w.secrets))},
	}, nil
}
