package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/tmplrun/tmplrun/internal/agent"
	"github.com/tmplrun/tmplrun/internal/logging"
)

// common are the flags of run and render.
type common struct {
	vars      varFlags
	logLevel  string
	logFormat string
}

func (c *common) register(fs *flag.FlagSet) {
	c.vars = varFlags{}
	fs.Var(c.vars, "var", "set a variable: -var name=value (repeatable)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json")
}

func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	level, err := logging.ParseLevel(c.logLevel)
	if err != nil {
		return nil, err
	}
	return logging.New(w, c.logFormat, level)
}

// parseFlags parses a subcommand's flags and its one FILE argument; flags
// may come before or after FILE (tmplrun validate FILE -var x=1).
func parseFlags(fs *flag.FlagSet, args []string) (string, bool) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", false
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return "", false
	}
	return files[0], true
}

// prepare does what run and render share once their flags are parsed:
// make the logger, load and validate FILE, build the agent. When it
// returns a nil agent, code is the exit status.
func prepare(file string, c *common, opts agent.Options, stderr io.Writer) (a *agent.Agent, log *slog.Logger, code int) {
	log, err := c.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tmplrun: %v\n", err)
		return nil, nil, 2
	}
	cfg := loadConfig(file, c.vars, stderr)
	if cfg == nil {
		return nil, nil, 1
	}
	opts.Logger, opts.Version, opts.Stderr = log, version, stderr
	a, err = agent.New(cfg, opts)
	if err != nil {
		log.Error(err.Error())
		return nil, nil, 1
	}
	return a, log, 0
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	httpAddr := fs.String("http-addr", "", "serve /v1/status and /metrics on this address, e.g. 127.0.0.1:9090 (off when empty)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: tmplrun run [flags] FILE")
		fmt.Fprintln(stderr, "\nLogs in to Vault, derives each task's token, renders every template, starts each")
		fmt.Fprintln(stderr, "task's process after its first render, keeps the files current and applies the")
		fmt.Fprintln(stderr, "change modes. SIGINT or SIGTERM stops the tasks and revokes their tokens.")
		fmt.Fprintln(stderr, "Exit status: 0 after a clean stop, 1 on an invalid file or when every task failed.")
		fs.PrintDefaults()
	}
	file, ok := parseFlags(fs, args)
	if !ok {
		return 2
	}
	a, log, code := prepare(file, &c, agent.Options{HTTPAddr: *httpAddr, Stdout: stdout}, stderr)
	if a == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		log.Info("stopping: tasks get their kill_signal, tokens are revoked", "event", "stopping")
	}()
	if err := a.Run(ctx); err != nil {
		log.Error("every task has stopped: "+err.Error(), "event", "exit")
		return 1
	}
	log.Info("stopped", "event", "stopped")
	return 0
}

func cmdRender(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	dryRun := fs.Bool("dry-run", false, "print each rendered file to stdout under a header naming it; write nothing")
	timeout := fs.Duration("timeout", time.Minute, "give up on templates whose data has not arrived after this long (a first_render_timeout in FILE wins)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: tmplrun render [flags] FILE")
		fmt.Fprintln(stderr, "\nRenders every template once, each task with its own token, and exits.")
		fmt.Fprintln(stderr, "With -dry-run the rendered files — secret values included — go to stdout and")
		fmt.Fprintln(stderr, "nothing is written. Exit status: 0 when everything rendered, else 1 with the reasons.")
		fs.PrintDefaults()
	}
	file, ok := parseFlags(fs, args)
	if !ok {
		return 2
	}
	a, log, code := prepare(file, &c, agent.Options{Stdout: stdout}, stderr)
	if a == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var out io.Writer
	if *dryRun {
		out = stdout
	}
	if err := a.Render(ctx, *timeout, out); err != nil {
		log.Error("render failed: "+err.Error(), "event", "render-failed")
		return 1
	}
	return 0
}
