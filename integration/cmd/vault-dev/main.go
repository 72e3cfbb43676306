// Command vault-dev runs a development Vault 1.14.1 in this process, on
// 127.0.0.1:8200 by default, seeded with what the examples need: the web,
// db and tmplrun policies, the tmplrun-task token role, a few KV v2
// secrets and the tmplrun AppRole (its role_id and secret_id written to
// files). State is in memory only. It runs until interrupted (Ctrl-C).
//
//	go run ./cmd/vault-dev [-addr 127.0.0.1:8200] [-creds-dir DIR] [-root-token ID] [-database]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tmplrun/tmplrun/integration/devseed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "vault-dev:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	addr      string
	rootToken string
	credsDir  string
	logLevel  string
	database  bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("vault-dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8200", "`host:port` to serve Vault's HTTP API on")
	fs.StringVar(&c.rootToken, "root-token", "", "root token `ID` (default: a random one)")
	fs.StringVar(&c.credsDir, "creds-dir", "", "`directory` for the tmplrun AppRole's role_id and secret_id files (default: a new temporary directory)")
	fs.StringVar(&c.logLevel, "log-level", "warn", "Vault's log `level` on stderr (trace, debug, info, warn, error)")
	fs.BoolVar(&c.database, "database", false, "also run PostgreSQL and the database secrets engine (role app at database/creds/app)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return c, nil
}

// run serves Vault until ctx ends, then stops it and removes the files
// it wrote.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	t := &programT{}
	defer t.runCleanups()
	defer func() { err = t.recoverFatal(recover(), err) }()

	v := startVault(t, c, stderr)
	s, err := devseed.Seed(v, devseed.Options{CredsDir: c.credsDir, Database: c.database})
	t.Cleanup(s.RemoveFiles)
	if err != nil {
		return err
	}
	printBanner(stdout, v, s)

	<-ctx.Done()
	fmt.Fprintln(stdout, "\nvault-dev: stopping; its data is gone.")
	return nil
}
