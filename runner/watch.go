package runner

import (
	"errors"
	"reflect"
	"sync"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"
)

// watcher fetches the runner's dependencies, each in a goroutine of its
// own, and hands their data to the loop. It replaces consul-template's
// watch.Watcher, which costs two goroutines per dependency (a poll loop
// and a fetch per round) and a 2,048-slot data channel (16 KB) per
// runner, and leaves its views running after Stop.
//
// A dependency's Fetch blocks until there is something to return
// (consul-template's Vault dependencies sleep until their next re-read or
// renewal, our file dependency until the file changes; failures are
// retried inside trackedDep). The loop is never blocked on: a fetch
// stores its data in its view and marks it ready; the loop takes every
// ready view at once (take), woken by ready (capacity 1, never closed).
type watcher struct {
	clients *dep.ClientSet
	// minInterval spaces a dependency's fetches that bring nothing new
	// (consul-template's views wait 100 ms too): a dependency that
	// returns the same data at once every time cannot spin.
	minInterval time.Duration

	mu      sync.Mutex
	views   map[string]*depView
	pending map[*depView]bool
	err     error // the first final fetch error
	stopped bool

	ready chan struct{}
	wg    sync.WaitGroup
}

// depView is one watched dependency and its latest data.
type depView struct {
	dep  dep.Dependency
	data any
	stop chan struct{}
}

func newWatcher(clients *dep.ClientSet) *watcher {
	return &watcher{
		clients:     clients,
		minInterval: 100 * time.Millisecond,
		views:       map[string]*depView{},
		pending:     map[*depView]bool{},
		ready:       make(chan struct{}, 1),
	}
}

// watching reports whether d (by name) is watched.
func (w *watcher) watching(d dep.Dependency) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.views[d.String()]
	return ok
}

// add starts watching d unless a dependency of the same name is watched.
func (w *watcher) add(d dep.Dependency) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	k := d.String()
	if _, ok := w.views[k]; ok {
		return
	}
	v := &depView{dep: d, stop: make(chan struct{})}
	w.views[k] = v
	w.wg.Add(1)
	go w.poll(v)
}

// remove stops watching d (by name).
func (w *watcher) remove(d dep.Dependency) {
	w.mu.Lock()
	v, ok := w.views[d.String()]
	if ok {
		delete(w.views, d.String())
		delete(w.pending, v)
	}
	w.mu.Unlock()
	if ok {
		v.halt()
	}
}

// take returns the dependencies with new data since the last take, and
// their data.
func (w *watcher) take() map[dep.Dependency]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		return nil
	}
	out := make(map[dep.Dependency]any, len(w.pending))
	for v := range w.pending {
		out[v.dep] = v.data
	}
	clear(w.pending)
	return out
}

// failure is the first dependency error that ended a depView (retries
// exhausted), or nil.
func (w *watcher) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// stop stops every depView and waits for their goroutines. A fetch blocked
// in a request returns once the request ends: the runner cancels its
// requests first (taskTransport).
func (w *watcher) stop() {
	w.mu.Lock()
	w.stopped = true
	views := w.views
	w.views = map[string]*depView{}
	clear(w.pending)
	w.mu.Unlock()
	for _, v := range views {
		v.halt()
	}
	w.wg.Wait()
}

func (v *depView) halt() {
	close(v.stop)
	v.dep.Stop()
}

func (v *depView) halted() bool {
	select {
	case <-v.stop:
		return true
	default:
		return false
	}
}

// poll fetches v's dependency until it is stopped or fails for good.
func (w *watcher) poll(v *depView) {
	defer w.wg.Done()
	var (
		last     time.Time
		prev     any
		received bool
	)
	for {
		start := time.Now()
		data, _, err := v.dep.Fetch(w.clients, &dep.QueryOptions{})
		if v.halted() || errors.Is(err, dep.ErrStopped) {
			return
		}
		if err == nil && received && reflect.DeepEqual(data, prev) {
			// Nothing new: fetch again, but not at once.
			if wait := w.minInterval - time.Since(last); wait > 0 && !v.sleep(wait) {
				return
			}
			last = start
			continue
		}
		last, prev, received = start, data, true
		w.mu.Lock()
		if err != nil {
			if w.err == nil {
				w.err = err
			}
		} else if w.views[v.dep.String()] == v {
			v.data = data
			w.pending[v] = true
		}
		w.mu.Unlock()
		select {
		case w.ready <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// sleep waits d, or until the view is halted (false).
func (v *depView) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-v.stop:
		return false
	}
}
