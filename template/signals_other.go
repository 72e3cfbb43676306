//go:build !unix

package template

// signalExists accepts the signals Go's os package can deliver off Unix.
func signalExists(name string) bool {
	return name == "SIGKILL" || name == "SIGINT"
}
