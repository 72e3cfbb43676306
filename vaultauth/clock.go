package vaultauth

import (
	"math/rand/v2"
	"time"
)

// clock is time as the token loops see it; tests replace it.
type clock interface {
	Now() time.Time
	// Timer fires once after d; stop releases it.
	Timer(d time.Duration) (c <-chan time.Time, stop func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Timer(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// randFloat is the default jitter source.
func randFloat() float64 { return rand.Float64() }
