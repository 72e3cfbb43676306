//go:build unix

package template

import "golang.org/x/sys/unix"

// signalExists reports whether a canonical signal name ("SIGHUP") names a
// signal on this system.
func signalExists(name string) bool {
	return unix.SignalNum(name) != 0
}
