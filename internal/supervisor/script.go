package supervisor

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// Script is a change script to run once.
type Script struct {
	Command string
	Args    []string
	Dir     string
	Env     []string
	Timeout time.Duration
	// Stdout and Stderr receive the script's output; nil discards it.
	Stdout, Stderr io.Writer
}

// ScriptResult says how a script ended.
type ScriptResult struct {
	ExitCode int // -1 when it did not exit normally
	TimedOut bool
	Err      error // could not start, or did not exit 0
	Duration time.Duration
}

// RunScript runs a script in its own process group and waits for it; at
// the timeout (or when ctx ends) the whole group is killed.
func RunScript(ctx context.Context, s Script) ScriptResult {
	began := time.Now()
	cmd := exec.Command(s.Command, s.Args...)
	cmd.Dir, cmd.Env = s.Dir, s.Env
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return ScriptResult{ExitCode: -1, Err: err, Duration: time.Since(began)}
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	timer := time.NewTimer(s.Timeout)
	defer timer.Stop()
	var (
		err      error
		timedOut bool
	)
	select {
	case err = <-waited:
	case <-timer.C:
		timedOut = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-waited
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-waited
	}
	res := ScriptResult{ExitCode: -1, TimedOut: timedOut, Duration: time.Since(began)}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case timedOut:
		res.Err = errors.New("timed out after " + s.Timeout.String())
	case ctx.Err() != nil:
		res.Err = ctx.Err()
	case err != nil:
		res.Err = err
	}
	return res
}
