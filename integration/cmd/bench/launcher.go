package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// report is what the launcher (./launch) writes.
type report struct {
	MaxRSS   int64         `json:"max_rss"` // bytes
	Wall     time.Duration `json:"wall"`
	CPU      time.Duration `json:"cpu"` // user + system
	ExitCode int           `json:"exit_code"`
}

// buildLauncher builds ./launch (see its doc: why the peak RSS of a
// process that exits by itself needs it) into dir.
func buildLauncher(benchDir, dir string) (string, error) {
	bin := filepath.Join(dir, "launch")
	cmd := exec.Command("go", "build", "-o", bin, "./launch")
	cmd.Dir = benchDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./launch: %w\n%s", err, out)
	}
	return bin, nil
}

// readReport reads a launcher's report.
func readReport(path string) (report, error) {
	var r report
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(b, &r)
}
