// Command tmplrun renders configuration files from Vault secrets for the
// processes that need them, keeps them current and tells each process when
// they change. See docs/cli.md.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "render templates, start and supervise the tasks, keep everything current", cmdRun},
		{"render", "render every template once and exit (-dry-run: print, write nothing)", cmdRender},
		{"validate", "check a config file (or Nomad jobspec) and print every problem", cmdValidate},
		{"version", "print tmplrun's version and those of consul-template and the Vault API", cmdVersion},
	}
}

// run dispatches to a subcommand and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "tmplrun: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: tmplrun <command> [flags] [FILE]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'tmplrun <command> -h' for a command's flags.")
}
