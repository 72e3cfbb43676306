package vaultauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	// delays records the duration of every timer created, in order.
	delays []time.Duration
	// created gets a value whenever a timer is created.
	created chan struct{}
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC), created: make(chan struct{}, 1)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Timer(d time.Duration) (<-chan time.Time, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{at: f.now.Add(d), c: make(chan time.Time, 1)}
	f.timers = append(f.timers, t)
	f.delays = append(f.delays, d)
	select {
	case f.created <- struct{}{}:
	default:
	}
	return t.c, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, x := range f.timers {
			if x == t {
				f.timers = append(f.timers[:i], f.timers[i+1:]...)
				return
			}
		}
	}
}

// waitTimer waits until a timer is pending and returns how far away it
// is.
func (f *fakeClock) waitTimer(t *testing.T) time.Duration {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		if len(f.timers) > 0 {
			d := f.timers[0].at.Sub(f.now)
			f.mu.Unlock()
			return d
		}
		f.mu.Unlock()
		select {
		case <-f.created:
		case <-deadline:
			t.Fatal("no timer pending after 10 s")
		}
	}
}

func (f *fakeClock) delayLog() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.delays...)
}

// fire moves the clock to the earliest pending timer and fires it.
func (f *fakeClock) fire(t *testing.T) time.Duration {
	t.Helper()
	f.waitTimer(t)
	f.mu.Lock()
	defer f.mu.Unlock()
	sort.Slice(f.timers, func(i, j int) bool { return f.timers[i].at.Before(f.timers[j].at) })
	tm := f.timers[0]
	f.timers = f.timers[1:]
	d := tm.at.Sub(f.now)
	if tm.at.After(f.now) {
		f.now = tm.at
	}
	tm.c <- f.now
	return d
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// result is one scripted answer of fakeSource.
type result struct {
	g   *grant
	err error
}

// fakeSource answers obtain, renew and verify from scripts; when a script
// runs out it succeeds with a renewable token of ttl.
type fakeSource struct {
	mu       sync.Mutex
	ttl      time.Duration
	obtains  []result
	renews   []result
	verifies []error
	issued   int
	calls    []string
}

func (s *fakeSource) obtain(context.Context) (*grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "obtain")
	if len(s.obtains) > 0 {
		r := s.obtains[0]
		s.obtains = s.obtains[1:]
		if r.err != nil {
			return nil, r.err
		}
		if r.g != nil {
			return r.g, nil
		}
	}
	s.issued++
	return &grant{token: fmt.Sprintf("s.secret-%d", s.issued), ttl: s.ttl, renewable: true, policies: []string{"default", "web"}}, nil
}

func (s *fakeSource) renew(_ context.Context, token string) (*grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "renew")
	if len(s.renews) > 0 {
		r := s.renews[0]
		s.renews = s.renews[1:]
		if r.err != nil {
			return nil, r.err
		}
		if r.g != nil {
			return r.g, nil
		}
	}
	return &grant{token: token, ttl: s.ttl, renewable: true}, nil
}

func (s *fakeSource) verify(context.Context, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "verify")
	if len(s.verifies) > 0 {
		err := s.verifies[0]
		s.verifies = s.verifies[1:]
		return err
	}
	return nil
}

func (s *fakeSource) callLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Errors as the Vault client returns them.
var (
	errDenied = &api.ResponseError{
		HTTPMethod: "PUT", URL: "http://127.0.0.1:8200/v1/auth/token/renew-self",
		StatusCode: 403, Errors: []string{"permission denied"},
	}
	errInternal = &api.ResponseError{
		HTTPMethod: "PUT", URL: "http://127.0.0.1:8200/v1/auth/token/renew-self",
		StatusCode: 500, Errors: []string{"internal error"},
	}
	errRefused = &url.Error{Op: "Put", URL: "http://127.0.0.1:8200/v1/auth/token/renew-self",
		Err: errors.New("dial tcp 127.0.0.1:8200: connect: connection refused")}
)

// eventLog collects events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) kinds() []EventKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []EventKind
	for _, e := range l.events {
		out = append(out, e.Kind)
	}
	return out
}

func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}
