package runner

import (
	"runtime"
	"sync"
)

// A pass executes its templates, and writes their files, on up to
// GOMAXPROCS goroutines. consul-template's Execute re-parses a
// template and rebuilds its map of some 180 functions every time, and
// each file costs a few system calls and two fsyncs: a first render of
// hundreds of templates is bound by one core without this. Nothing else
// of a pass runs concurrently: the brain does not change during a pass,
// each template's execution touches only its own state (used, missing),
// and each write its own file.

// execResult is one template's execution.
type execResult struct {
	out []byte
	err error
}

// executeAll executes the templates run (indexes into r.tmpls); the
// result of template i is at index i.
func (r *Runner) executeAll(run []int) []execResult {
	outs := make([]execResult, len(r.tmpls))
	parallel(len(run), func(k int) {
		i := run[k]
		outs[i].out, outs[i].err = r.execute(r.tmpls[i])
	})
	return outs
}

// pendingWrite is a rendered template on its way to its file.
type pendingWrite struct {
	template int
	out      []byte
	env      map[string]string
	fp       uint64
	sum      [32]byte

	changed bool // set by writeAll
	err     error
}

// writeAll writes every file of ws, setting changed and err. A dry run
// hands them to DryRun one at a time, in order: the callback need not be
// safe for concurrent use.
func (r *Runner) writeAll(ws []pendingWrite) {
	write := func(k int) {
		w := &ws[k]
		w.changed, w.err = r.write(r.tmpls[w.template], w.out)
	}
	if r.cfg.DryRun != nil {
		for k := range ws {
			write(k)
		}
		return
	}
	parallel(len(ws), write)
}

// parallel calls f(0) … f(n-1) on up to GOMAXPROCS goroutines and
// returns when every call has.
func parallel(n int, f func(int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for k := 0; k < n; k++ {
			f(k)
		}
		return
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next int
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				k := next
				next++
				mu.Unlock()
				if k >= n {
					return
				}
				f(k)
			}
		}()
	}
	wg.Wait()
}
