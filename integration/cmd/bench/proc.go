package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100 on
// every Linux we run on).
const clockTicks = 100

// proc is one process under measurement.
type proc struct {
	name   string
	cmd    *exec.Cmd
	output *capBuffer // stdout and stderr
	done   chan struct{}
	err    error  // from Wait
	report string // the launcher's report file (startMeasured)
}

// startProc starts bin with args in dir, with exactly env (plus PATH and
// HOME).
func startProc(name, bin string, args []string, dir string, env []string) (*proc, error) {
	p := &proc{name: name, output: newCapBuffer(1 << 20), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// launcher is the ./launch binary startMeasured runs processes through.
var launcher string

// startMeasured starts bin through the launcher, which writes the rusage
// of its exit to a report file next to dir: read it with result once the
// process has exited.
func startMeasured(name, bin string, args []string, dir string, env []string) (*proc, error) {
	report := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+".report.json")
	p, err := startProc(name, launcher, append([]string{report, bin}, args...), dir, env)
	if err != nil {
		return nil, err
	}
	p.report = report
	return p, nil
}

// result is the launcher's report of an exited process.
func (p *proc) result() (report, error) {
	if p.report == "" {
		return report{}, fmt.Errorf("%s was not started through the launcher", p.name)
	}
	defer os.Remove(p.report)
	return readReport(p.report)
}

// wait waits for the process to exit on its own.
func (p *proc) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s: %w\n%s", p.name, p.err, p.output.tail(4000))
		}
		return nil
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("%s did not finish within %s\n%s", p.name, timeout, p.output.tail(4000))
	}
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits (up to a minute, then SIGKILL).
func (p *proc) stop(sig syscall.Signal) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.kill()
	}
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// memory is the process's resident set now and its peak, in bytes
// (VmRSS and VmHWM of /proc/<pid>/status).
func (p *proc) memory() (rss, peak float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	field := func(name string) float64 {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				return kb * 1024
			}
		}
		return 0
	}
	return field("VmRSS"), field("VmHWM"), nil
}

// cpu is the CPU time (user + system) the process has used so far.
func (p *proc) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// goroutineHeader starts each goroutine of a dump ("goroutine 7 [select]:",
// or with GOTRACEBACK=all "goroutine 7 gp=0x… m=nil [select]:");
// goroutine 0 is the runtime's signal-handling stack, not a goroutine.
// schedTrace is the GODEBUG setting under which both systems run in
// watch mode: every 5 s the Go runtime prints its scheduler state, every
// goroutine included — the one way to count the goroutines of an
// unmodified consul-template, which has no metrics endpoint and traps
// every signal (SIGQUIT included) instead of dumping its stacks.
const schedTrace = "GODEBUG=schedtrace=5000,scheddetail=1"

// goroutines is the number of live goroutines (the runtime's own
// included) in the last complete scheduler trace (-1 before one), and the
// number of complete traces so far.
func (p *proc) goroutines() (n, traces int) { return p.output.goroutines() }

// capBuffer keeps the last max bytes a process wrote, and reads the
// scheduler traces (schedTrace) in passing.
type capBuffer struct {
	mu   sync.Mutex
	b    []byte
	max  int
	line []byte // an unfinished line

	inBlock  bool
	current  int // live goroutines of the trace being read
	complete int // of the last complete one; -1 before
	traces   int // complete traces read
}

var _ io.Writer = (*capBuffer)(nil)

func newCapBuffer(max int) *capBuffer { return &capBuffer{max: max, complete: -1} }

func (c *capBuffer) Write(p []byte) (int, error) {
	n := len(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b = append(c.b, p...)
	if len(c.b) > 2*c.max {
		c.b = append(c.b[:0], c.b[len(c.b)-c.max:]...)
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.line = append(c.line, p...)
			break
		}
		c.line = append(c.line, p[:i]...)
		c.scan(c.line)
		c.line = c.line[:0]
		p = p[i+1:]
	}
	return n, nil
}

// scan reads one line of a scheduler trace: "SCHED …" starts a trace,
// "  G<id>: status=<n>(…) …" is a goroutine (status 6 is dead).
func (c *capBuffer) scan(line []byte) {
	switch {
	case bytes.HasPrefix(line, []byte("SCHED ")):
		if c.inBlock {
			c.complete = c.current
			c.traces++
		}
		c.inBlock, c.current = true, 0
	case c.inBlock && bytes.HasPrefix(line, []byte("  G")) && bytes.Contains(line, []byte(": status=")):
		if !bytes.Contains(line, []byte(": status=6(")) {
			c.current++
		}
	}
}

// goroutines returns the last complete trace's count and how many traces
// were complete.
func (c *capBuffer) goroutines() (n, traces int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.complete, c.traces
}

func (c *capBuffer) tail(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.b[max(len(c.b)-n, 0):])
}
