package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tmplrun/tmplrun/template"
)

// varFlags collects repeated -var name=value flags.
type varFlags map[string]string

func (v varFlags) String() string { return "" }

func (v varFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	v[name] = value
	return nil
}

// loadConfig parses and validates FILE, printing every problem to stderr.
// It returns nil when the file is invalid.
func loadConfig(file string, vars varFlags, stderr io.Writer) *template.Config {
	cfg, err := template.ParseFile(file, &template.Options{Vars: vars})
	var perr *template.Error
	switch {
	case errors.As(err, &perr):
		perr.Write(stderr)
		fmt.Fprintf(stderr, "%s: %d %s\n", file, perr.Errors(), plural(perr.Errors(), "error", "errors"))
		return nil
	case err != nil:
		fmt.Fprintf(stderr, "tmplrun: %v\n", err)
		return nil
	}
	if len(cfg.Warnings) > 0 {
		template.WriteDiagnostics(stderr, cfg.Warnings, nil)
	}
	return cfg
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vars := varFlags{}
	fs.Var(vars, "var", "set a variable: -var name=value (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: tmplrun validate [-var name=value]... FILE   (flags may also follow FILE)")
		fmt.Fprintln(stderr, "\nParses and validates FILE (a tmplrun config or a Nomad jobspec), template")
		fmt.Fprintln(stderr, "texts included, and prints every problem with file:line:col. Writes nothing.")
		fmt.Fprintln(stderr, "Exit status: 0 valid, 1 invalid, 2 usage error.")
		fs.PrintDefaults()
	}
	file, ok := parseFlags(fs, args)
	if !ok {
		return 2
	}
	cfg := loadConfig(file, vars, stderr)
	if cfg == nil {
		return 1
	}
	n := 0
	for _, t := range cfg.Tasks {
		n += len(t.Templates)
	}
	fmt.Fprintf(stdout, "%s: valid (%s, %d %s, %d %s)\n", file, cfg.Format,
		len(cfg.Tasks), plural(len(cfg.Tasks), "task", "tasks"), n, plural(n, "template", "templates"))
	return 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
