package runner

import (
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	dep "github.com/hashicorp/consul-template/dependency"
)

// defaultFilePoll is how often a file dependency is checked for changes
// (consul-template's own file dependency uses the same interval).
const defaultFilePoll = 2 * time.Second

// fileDep is the dependency of the template function `file`: a file inside
// the task dir, read through the task dir's os.Root (a symlink planted to
// leave the dir fails instead of being followed), or anywhere when the
// file sandbox is disabled. It replaces consul-template's FileQuery, whose
// polling goroutine outlives Stop. A missing file is a missing dependency:
// the template waits for it.
type fileDep struct {
	name     string // as the template wrote it
	rel      string // inside the task dir (sandboxed)
	abs      string // anywhere (sandbox disabled)
	root     *os.Root
	interval time.Duration

	stop     chan struct{}
	stopOnce sync.Once
	seen     fileStamp
	index    uint64
}

type fileStamp struct {
	size int64
	mod  time.Time
	ok   bool
}

// Fetch implements dep.Dependency: it returns the file's contents once
// they differ (by size or modification time) from the last ones returned.
func (d *fileDep) Fetch(*dep.ClientSet, *dep.QueryOptions) (any, *dep.ResponseMetadata, error) {
	for {
		if fi, err := d.stat(); err == nil && fi.Mode().IsRegular() {
			st := fileStamp{size: fi.Size(), mod: fi.ModTime(), ok: true}
			if st != d.seen {
				if data, err := d.read(); err == nil {
					d.seen = st
					d.index++
					return string(data), &dep.ResponseMetadata{LastIndex: d.index}, nil
				}
			}
		}
		t := time.NewTimer(d.interval)
		select {
		case <-t.C:
		case <-d.stop:
			t.Stop()
			return nil, nil, dep.ErrStopped
		}
	}
}

func (d *fileDep) stat() (fs.FileInfo, error) {
	if d.root != nil {
		return d.root.Stat(d.rel)
	}
	return os.Stat(d.abs)
}

func (d *fileDep) read() ([]byte, error) {
	if d.root != nil {
		return d.root.ReadFile(d.rel)
	}
	return os.ReadFile(d.abs)
}

// CanShare implements dep.Dependency.
func (d *fileDep) CanShare() bool { return false }

// Stop implements dep.Dependency.
func (d *fileDep) Stop() { d.stopOnce.Do(func() { close(d.stop) }) }

// String implements dep.Dependency.
func (d *fileDep) String() string { return fmt.Sprintf("file(%s)", d.name) }

// Type implements dep.Dependency.
func (d *fileDep) Type() dep.Type { return dep.TypeLocal }
