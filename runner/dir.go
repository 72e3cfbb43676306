package runner

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tmplrun/tmplrun/sandbox"
)

// openDir opens the task dir, creating it when missing — except in a dry
// run, which must leave the disk untouched: there a missing task dir is
// stood in for by an empty temporary one (its sources and files simply do
// not exist yet), removed when the runner closes it.
func openDir(cfg Config) (*taskDir, error) {
	if cfg.DryRun == nil {
		d, err := sandbox.Create(cfg.Dir)
		return &taskDir{Dir: d}, err
	}
	d, err := sandbox.Open(cfg.Dir)
	if err == nil {
		return &taskDir{Dir: d}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "tmplrun-dry-run-")
	if err != nil {
		return nil, err
	}
	d, err = sandbox.Open(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return &taskDir{Dir: d, remove: tmp}, nil
}

// taskDir is the opened task dir, and a stand-in to remove on Close.
type taskDir struct {
	*sandbox.Dir
	remove string
}

// Close closes the dir and removes a dry run's stand-in.
func (d *taskDir) Close() error {
	err := d.Dir.Close()
	if d.remove != "" {
		os.RemoveAll(d.remove)
	}
	return err
}

// removeStaleTemps removes the temporary files of writes that were
// interrupted (tmplrun killed mid-write) from the directories of the
// task's destinations: each directory is read once, and only our own
// temporary files older than a minute go — never another writer's in
// progress (see sandbox.Dir.RemoveStaleTemps).
func (r *Runner) removeStaleTemps() {
	seen := map[string]bool{}
	var dirs []string
	for _, t := range r.cfg.Templates {
		if d := filepath.Dir(t.Destination); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	removed, err := r.dir.RemoveStaleTemps(dirs, time.Now().Add(-staleTempAge))
	if len(removed) > 0 {
		r.log.Info("removed temporary files of interrupted writes", "files", removed)
	}
	if err != nil {
		r.log.Warn("removing temporary files of interrupted writes", "err", err)
	}
}

// staleTempAge is how old a temporary file must be to be removed: no
// write takes that long.
const staleTempAge = time.Minute
