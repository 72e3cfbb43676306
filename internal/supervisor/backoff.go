package supervisor

import "time"

// Restart backoff after the process exits on its own: the first restart
// waits minBackoff, each further one twice as long up to maxBackoff; a
// process that ran for at least stableAfter starts again from minBackoff.
const (
	minBackoff  = time.Second
	maxBackoff  = 30 * time.Second
	stableAfter = time.Minute
)

// restartDelay is how long to wait before starting again a process that
// exited on its own after running for ran, when failures is the number of
// consecutive short runs before this one. It returns the delay and the new
// failure count.
func restartDelay(failures int, ran time.Duration) (time.Duration, int) {
	if ran >= stableAfter {
		failures = 0
	}
	d := minBackoff
	for i := 0; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	if d > maxBackoff {
		d = maxBackoff
	}
	return d, failures + 1
}
