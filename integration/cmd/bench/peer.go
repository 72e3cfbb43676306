package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// peerModule is the consul-template release tmplrun embeds.
const peerModule = "github.com/hashicorp/consul-template@v0.41.3"

// installPeer installs consul-template with `go install` into dir
// (skipped when a binary of the right version is there already) and
// returns its path. The module proxy serves it; nothing else is fetched.
func installPeer(dir string) (string, error) {
	bin := filepath.Join(dir, "consul-template")
	version := peerModule[strings.LastIndexByte(peerModule, '@')+1:]
	if out, err := exec.Command(bin, "-v").CombinedOutput(); err == nil && bytes.Contains(out, []byte(version)) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("go", "install", peerModule)
	cmd.Dir = os.TempDir() // outside any module
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", peerModule, err, out)
	}
	return bin, nil
}

// buildTmplrun builds cmd/tmplrun of the repository at root into dir.
func buildTmplrun(root, dir string) (string, error) {
	bin := filepath.Join(dir, "tmplrun")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/tmplrun")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/tmplrun: %w\n%s", err, out)
	}
	return bin, nil
}

// moduleDir finds the directory, at or above the working directory, of
// the Go module named module.
func moduleDir(module string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module "+module+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("module %s is not at or above the working directory", module)
		}
		dir = parent
	}
}

var numbered = regexp.MustCompile(`\d{3,}`)

// summarize groups requests whose paths differ only by numbers
// (secret/data/bench/s1/s0007 → …/sN).
func summarize(r vaulttest.Requests) string {
	grouped := vaulttest.Requests{}
	for k, n := range r {
		k.Path = numbered.ReplaceAllString(k.Path, "N")
		grouped[k] += n
	}
	return grouped.String()
}
