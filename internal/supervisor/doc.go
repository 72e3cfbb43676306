// Package supervisor runs one task's process for the tmplrun CLI: start it
// in the task dir in its own process group, stop it with the task's
// kill_signal then SIGKILL after kill_timeout, restart it on request or
// after it exits on its own (with capped backoff), deliver signals, and run
// change scripts in the same directory and environment.
//
//	p := supervisor.New(supervisor.Config{Name: "web", Command: "./bin/server", Dir: dir, Env: env})
//	go p.Run(ctx)           // supervises until ctx ends or Stop
//	p.Restart(ctx, "template local/app.conf changed")
//	p.Stop(ctx)             // kill_signal, kill_timeout, SIGKILL
//
// It is internal: an orchestrator embedding tmplrun's runner brings its
// own lifecycle.
package supervisor
