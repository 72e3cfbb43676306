package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// system is one of the two programs compared.
type system interface {
	name() string
	// render renders w once into root and exits (S1).
	render(root string, w workload, s settings) (*proc, error)
	// watch runs w in root until stopped.
	watch(root string, w workload, s settings) (*instance, error)
}

// instance is a system running in watch mode: one process (tmplrun) or
// one per task (consul-template).
type instance struct {
	procs      []*proc
	stopSignal syscall.Signal
}

// memory sums the processes' resident sets and peaks, in bytes.
func (in *instance) memory() (rss, peak float64, err error) {
	for _, p := range in.procs {
		r, h, err := p.memory()
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", p.name, err)
		}
		rss += r
		peak += h
	}
	return rss, peak, nil
}

// cpu sums the processes' CPU time so far.
func (in *instance) cpu() (time.Duration, error) {
	var sum time.Duration
	for _, p := range in.procs {
		c, err := p.cpu()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p.name, err)
		}
		sum += c
	}
	return sum, nil
}

// traces is how many scheduler traces each process has written.
func (in *instance) traces() []int {
	out := make([]int, len(in.procs))
	for i, p := range in.procs {
		_, out[i] = p.goroutines()
	}
	return out
}

// goroutines sums the processes' goroutines, from a scheduler trace
// (see schedTrace) that each began after marks (from traces) was taken:
// it waits for them.
func (in *instance) goroutines(marks []int) (float64, error) {
	deadline := time.Now().Add(30 * time.Second)
	sum := 0
	for i, p := range in.procs {
		for {
			n, traces := p.goroutines()
			if traces >= marks[i]+2 {
				sum += n
				break
			}
			if p.exited() || time.Now().After(deadline) {
				return 0, fmt.Errorf("%s: no scheduler trace", p.name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return float64(sum), nil
}

// stop stops every process: tmplrun on SIGTERM, consul-template on
// SIGINT (it ignores SIGTERM).
func (in *instance) stop() {
	for _, p := range in.procs {
		p.stop(in.stopSignal)
	}
}

// tmplrun runs the tmplrun binary: one process for every task.
type tmplrun struct {
	bin, addr, token string
}

func (t *tmplrun) name() string { return "tmplrun" }

func (t *tmplrun) write(root string, w workload, s settings) (string, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(root, "tmplrun.hcl")
	return path, os.WriteFile(path, []byte(tmplrunConfig(t.addr, w, s)), 0o644)
}

func (t *tmplrun) render(root string, w workload, s settings) (*proc, error) {
	cfg, err := t.write(root, w, s)
	if err != nil {
		return nil, err
	}
	return startMeasured("tmplrun render", t.bin, []string{"render", "-log-level", "warn", "-timeout", "5m", cfg}, root, t.env())
}

func (t *tmplrun) watch(root string, w workload, s settings) (*instance, error) {
	cfg, err := t.write(root, w, s)
	if err != nil {
		return nil, err
	}
	p, err := startProc("tmplrun run", t.bin, []string{"run", "-log-level", "warn", cfg}, root, append(t.env(), schedTrace))
	if err != nil {
		return nil, err
	}
	return &instance{procs: []*proc{p}, stopSignal: syscall.SIGTERM}, nil
}

func (t *tmplrun) env() []string { return []string{"VAULT_TOKEN=" + t.token} }

// consulTemplate runs the consul-template binary: one process per task,
// as a peer without tmplrun's supervisor would.
type consulTemplate struct {
	bin, addr, token string
}

func (c *consulTemplate) name() string { return "consul-template" }

func (c *consulTemplate) write(root string, w workload, i int, s settings) (string, error) {
	dir := filepath.Join(root, "ct")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, taskName(i)+".hcl")
	return path, os.WriteFile(path, []byte(peerConfig(c.addr, c.token, root, w, i, s)), 0o644)
}

func (c *consulTemplate) render(root string, w workload, s settings) (*proc, error) {
	if w.tasks != 1 {
		return nil, fmt.Errorf("consul-template render: one task only, not %d", w.tasks)
	}
	cfg, err := c.write(root, w, 0, s)
	if err != nil {
		return nil, err
	}
	return startMeasured("consul-template -once", c.bin, []string{"-once", "-config", cfg}, root, nil)
}

func (c *consulTemplate) watch(root string, w workload, s settings) (*instance, error) {
	in := &instance{stopSignal: syscall.SIGINT}
	for i := 0; i < w.tasks; i++ {
		cfg, err := c.write(root, w, i, s)
		if err == nil {
			var p *proc
			p, err = startProc("consul-template "+taskName(i), c.bin, []string{"-config", cfg}, root, []string{schedTrace})
			if err == nil {
				in.procs = append(in.procs, p)
			}
		}
		if err != nil {
			in.stop()
			return nil, err
		}
	}
	return in, nil
}
