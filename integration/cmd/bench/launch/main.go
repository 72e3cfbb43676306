// Command launch runs one program and writes the rusage wait4 gives for
// it to a JSON file: the bench's way of measuring the peak RSS of a
// process that exits by itself.
//
//	launch REPORT BIN [ARGS…]
//
// Why a separate, small program: on Linux, Go starts processes with
// vfork (CLONE_VM), and at exec the kernel records the memory the child
// shared until then — its parent's — as the child's peak so far. A
// process started by the bench, which holds Vault, would seem to peak at
// the bench's own size; started by this program, whose memory is a few
// MB, it reports its own peak. Signals (INT, TERM, QUIT) are passed on;
// the exit code is the program's.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// report is what the bench reads (cmd/bench, launcher.go).
type report struct {
	MaxRSS   int64         `json:"max_rss"` // bytes
	Wall     time.Duration `json:"wall"`
	CPU      time.Duration `json:"cpu"` // user + system
	ExitCode int           `json:"exit_code"`
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: launch REPORT BIN [ARGS…]")
		os.Exit(2)
	}
	os.Exit(run(os.Args[1], os.Args[2], os.Args[3:]))
}

func run(reportPath, bin string, args []string) int {
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 2
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	_ = cmd.Wait()
	r := report{Wall: time.Since(start), ExitCode: cmd.ProcessState.ExitCode()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSS = ru.Maxrss * 1024 // kB
		r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, _ := json.Marshal(r)
	if err := os.WriteFile(reportPath, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 2
	}
	return r.ExitCode
}
