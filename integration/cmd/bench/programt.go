package main

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// programT is the vaulttest.T of this program: Fatalf panics with a
// fatal value that run recovers into an error, and Cleanup functions run
// when run returns (vaulttest's helpers stop a test with Fatalf).
type programT struct {
	mu       sync.Mutex
	cleanups []func()
}

type fatal struct{ msg string }

func (t *programT) Helper()                           {}
func (t *programT) Name() string                      { return "bench" }
func (t *programT) Logf(format string, args ...any)   { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (t *programT) Fatalf(format string, args ...any) { panic(fatal{fmt.Sprintf(format, args...)}) }
func (t *programT) Skip(args ...any)                  { panic(fatal{fmt.Sprint(args...)}) }

func (t *programT) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// runCleanups runs the Cleanup functions, last registered first.
func (t *programT) runCleanups() {
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// recoverFatal turns a Fatalf panic into an error; other panics go on.
func recoverFatal(r any, err error) error {
	if r == nil {
		return err
	}
	f, ok := r.(fatal)
	if !ok {
		panic(r)
	}
	return errors.New(f.msg)
}
