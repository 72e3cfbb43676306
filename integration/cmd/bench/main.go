// Command bench measures tmplrun side by side with the bare
// consul-template binary it embeds, against a real in-process Vault
// 1.14.1 (vaulttest) whose request counter sees both. It installs
// consul-template v0.41.3 with `go install` (cached), builds cmd/tmplrun
// from the repository, runs each scenario on both systems alternately
// (consul-template, tmplrun, consul-template, …) and prints a markdown
// table of medians and ratios. `make bench` runs it; docs/performance.md
// explains the scenarios and a full run's numbers.
//
//	go run ./cmd/bench [-scenarios S1,S2,S3,S4,S5] [-quick] [-out FILE]
//
// It never asserts anything about time: the machine is shared; compare
// the ratios of one run.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	scenarios map[string]bool
	quick     bool
	out       string
	cache     string
	repo      string
	keep      bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.String("scenarios", "S1,S2,S3,S4,S5", "comma-separated `scenarios` to run")
	fs.BoolVar(&o.quick, "quick", false, "one repetition each and a one-period idle window: a smoke run, not a measurement")
	fs.StringVar(&o.out, "out", "", "also write the report to this `file`")
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	fs.StringVar(&o.cache, "peer-dir", filepath.Join(cache, "tmplrun-bench", "consul-template-v0.41.3"), "`directory` consul-template is installed into (once)")
	fs.StringVar(&o.repo, "repo", "", "build tmplrun from the repository at `root` (default: the one above the working directory; another checkout compares versions)")
	fs.BoolVar(&o.keep, "keep", false, "keep the scratch directory")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.scenarios = map[string]bool{}
	for _, s := range strings.Split(*list, ",") {
		s = strings.ToUpper(strings.TrimSpace(s))
		switch s {
		case "S1", "S2", "S3", "S4", "S5":
			o.scenarios[s] = true
		case "":
		default:
			return o, fmt.Errorf("unknown scenario %q", s)
		}
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.repo == "" {
		if o.repo, err = moduleDir("github.com/tmplrun/tmplrun"); err != nil {
			return fmt.Errorf("%w (give -repo)", err)
		}
	}
	benchModule, err := moduleDir("github.com/tmplrun/tmplrun/integration")
	if err != nil {
		return fmt.Errorf("%w: run the bench from integration/", err)
	}
	work, err := os.MkdirTemp("", "tmplrun-bench-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}
	fmt.Fprintf(stderr, "bench: installing %s into %s (once)\n", peerModule, o.cache)
	peerBin, err := installPeer(o.cache)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: building tmplrun from %s\n", o.repo)
	tmplrunBin, err := buildTmplrun(o.repo, work)
	if err != nil {
		return err
	}
	if launcher, err = buildLauncher(filepath.Join(benchModule, "cmd", "bench"), work); err != nil {
		return err
	}

	t := &programT{}
	defer t.runCleanups()
	defer func() { err = recoverFatal(recover(), err) }()
	v := vaulttest.Start(t, vaulttest.Options{})
	t.Cleanup(v.Close)
	v.PutPolicy(benchPolicy, benchRules)
	v.CreateTokenRole(taskRole, vaulttest.TokenRole{AllowedPolicies: []string{benchPolicy}, Orphan: true, Period: time.Hour})

	b := &bench{
		v: v,
		systems: []system{
			&consulTemplate{bin: peerBin, addr: v.Addr, token: v.RootToken},
			&tmplrun{bin: tmplrunBin, addr: v.Addr, token: v.RootToken},
		},
		work:  work,
		quick: o.quick,
		log:   stderr,
	}
	started := time.Now()
	var rows []row
	add := func(rs []row, err error) error {
		rows = append(rows, rs...)
		return err
	}
	steps := []struct {
		name string
		run  func() ([]row, error)
	}{
		{"S1", func() ([]row, error) {
			rs, err := b.s1(workload{name: "s1a", tasks: 1, templates: 500, secrets: 50}, b.reps(5))
			if err != nil {
				return rs, err
			}
			more, err := b.s1(workload{name: "s1b", tasks: 1, templates: 2000, secrets: 200}, b.reps(3))
			return append(rs, more...), err
		}},
		{"S2", func() ([]row, error) {
			return b.s2(workload{name: "s2", tasks: 1, templates: 10, secrets: 10}, b.reps(4), 15)
		}},
		{"S3", func() ([]row, error) {
			return b.s3(workload{name: "s3", tasks: 1, templates: 500, secrets: 50}, b.reps(2))
		}},
		{"S4", func() ([]row, error) {
			return b.s4(workload{name: "s4", tasks: 100, templates: 3, secrets: 30}, b.reps(2))
		}},
		{"S5", func() ([]row, error) {
			return b.s5(workload{name: "s5", tasks: 1000, templates: 3, secrets: 30}, b.reps(2))
		}},
	}
	for _, s := range steps {
		if !o.scenarios[s.name] {
			continue
		}
		b.logf("%s", s.name)
		if err := add(s.run()); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	var report bytes.Buffer
	fmt.Fprintf(&report, "Machine: %s\n\n", machine())
	writeTable(&report, rows)
	fmt.Fprintf(&report, "\nTotal bench time %s.\n", time.Since(started).Round(time.Second))
	stdout.Write(report.Bytes())
	if o.out != "" {
		return os.WriteFile(o.out, report.Bytes(), 0o644)
	}
	return nil
}

// machine describes where the numbers come from.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf(", %.0f GB RAM", float64(kb)/(1<<20))
	}
	kernel := ""
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%d × %s%s%s, %s; Vault 1.14.1 in the bench process on the same cores",
		runtime.NumCPU(), model, mem, kernel, runtime.Version())
}
