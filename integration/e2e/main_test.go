// Package e2e drives the tmplrun binary as a user would, against the real
// in-process Vault of vaulttest, with testtask as the supervised process.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// Built once by TestMain.
var (
	tmplrunBin  string
	testtaskBin string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tmplrun-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmplrunBin = filepath.Join(dir, "tmplrun")
	testtaskBin = filepath.Join(dir, "testtask")
	root, _ := filepath.Abs("../..")
	// srcDir is where `go build` runs; on failure only the temp dir of
	// the binaries is removed, never the source tree.
	build := func(srcDir, out, pkg string) {
		cmd := exec.Command("go", "build", "-race", "-o", out, pkg)
		cmd.Dir = srcDir
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, b)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	build(root, tmplrunBin, "./cmd/tmplrun")
	build(".", testtaskBin, "./testtask")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a process writing while a test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running tmplrun.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	code           int
}

// tmplrun starts `tmplrun args…` with env (plus PATH and HOME) and stops
// it at the end of the test.
func tmplrun(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(tmplrunBin, args...)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("tmplrun stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits for tmplrun to exit; it returns the exit
// code.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("tmplrun did not stop within 30s of SIGTERM")
	}
	return p.code
}

// wait waits for tmplrun to exit on its own and returns the exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(60 * time.Second):
		t.Fatalf("tmplrun did not exit; stderr:\n%s", p.stderr.String())
	}
	return -1
}

// logHas waits until tmplrun's stderr contains s.
func (p *proc) logHas(t *testing.T, s string) {
	t.Helper()
	eventually(t, fmt.Sprintf("log line %q", s), func() bool { return strings.Contains(p.stderr.String(), s) })
}

// eventually polls cond until it holds or 60 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// record is one line testtask writes.
type record struct {
	Event  string            `json:"event"`
	PID    int               `json:"pid"`
	Time   time.Time         `json:"time"`
	Args   []string          `json:"args"`
	Env    map[string]string `json:"env"`
	Signal string            `json:"signal"`
	Files  map[string]string `json:"files"`
}

// records reads what testtask wrote to path.
func records(path string) []record {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r record
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

func count(rs []record, event string) int {
	n := 0
	for _, r := range rs {
		if r.Event == event {
			n++
		}
	}
	return n
}

func lastStart(rs []record) (record, bool) {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Event == "start" {
			return rs[i], true
		}
	}
	return record{}, false
}

// setup is one test's Vault, a policy-bound task token role, and a
// working directory with a config file.
type setup struct {
	v   *vaulttest.Vault
	dir string
	out string // testtask's record file
}

// newSetup starts a Vault with a "web" policy that reads secret/data/web/*
// and a token role tmplrun-task allowing it.
func newSetup(t *testing.T) *setup {
	t.Helper()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.PutPolicy("web", `path "secret/data/web/*" { capabilities = ["read"] }`)
	v.CreateTokenRole("tmplrun-task", vaulttest.TokenRole{AllowedPolicies: []string{"web"}, Orphan: true, Period: time.Hour})
	dir := t.TempDir()
	return &setup{v: v, dir: dir, out: filepath.Join(dir, "testtask.out")}
}

// config writes tmplrun.hcl: an agent vault block logging in with the
// root token from $VAULT_TOKEN, then body.
func (s *setup) config(t *testing.T, body string) string {
	t.Helper()
	src := fmt.Sprintf(`
vault {
  address          = %q
  create_from_role = "tmplrun-task"
  auth "token" {}
}
`, s.v.Addr) + body
	path := filepath.Join(s.dir, "tmplrun.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// env is tmplrun's environment: the root token to log in with.
func (s *setup) env() []string { return []string{"VAULT_TOKEN=" + s.v.RootToken} }

// taskBlock is a task running testtask with extra args, and body inside.
func (s *setup) taskBlock(args []string, body string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	return fmt.Sprintf(`
task "web" {
  command = %q
  args    = [%s]
  env     = { TESTTASK_OUT = %q }
  kill_timeout = "3s"
  vault {
    policies = ["web"]
  }
%s
}
`, testtaskBin, strings.Join(quoted, ", "), s.out, body)
}

func (s *setup) taskDir() string { return filepath.Join(s.dir, "web") }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// greetingTemplate is a template block rendering secret/web/config's
// greeting into local/app.conf, with extra lines inside the block.
func greetingTemplate(extra string) string {
	return `
  template {
    data        = "{{ with secret \"secret/data/web/config\" }}{{ .Data.data.greeting }}{{ end }}"
    destination = "local/app.conf"
` + extra + `
  }
`
}
