package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is a task directory opened for confined access. It is safe for use
// by several goroutines at once. Close it when done.
type Dir struct {
	root *os.Root
	path string
}

// Layout is the set of directories every task dir gets, with their modes
// (alloc/ is where ${NOMAD_ALLOC_DIR} points).
var Layout = []struct {
	Name string
	Perm fs.FileMode
}{
	{"alloc", 0o755},
	{"local", 0o755},
	{"secrets", 0o700},
	{"tmp", 0o755},
}

// Open opens an existing task dir.
func Open(path string) (*Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open task dir: %w", err)
	}
	return &Dir{root: root, path: abs}, nil
}

// Create makes the task dir (0755) and its Layout if they are missing,
// enforces the layout's modes (secrets/ is always 0700), and opens it.
func Create(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("create task dir: %w", err)
	}
	d, err := Open(path)
	if err != nil {
		return nil, err
	}
	for _, sub := range Layout {
		if err := d.root.MkdirAll(sub.Name, sub.Perm); err != nil {
			d.Close()
			return nil, fmt.Errorf("create task dir %s: %w", sub.Name, err)
		}
		if err := d.root.Chmod(sub.Name, sub.Perm); err != nil {
			d.Close()
			return nil, fmt.Errorf("create task dir %s: %w", sub.Name, err)
		}
	}
	return d, nil
}

// Path is the task dir's absolute path.
func (d *Dir) Path() string { return d.path }

// Root is the underlying os.Root, for callers that need more than Dir
// offers; every operation on it stays confined too.
func (d *Dir) Root() *os.Root { return d.root }

// Close releases the directory handle.
func (d *Dir) Close() error { return d.root.Close() }

// ReadFile reads a file inside the task dir.
func (d *Dir) ReadFile(name string) ([]byte, error) {
	return d.root.ReadFile(name)
}

// Option adjusts a write.
type Option func(*writeOpts)

type writeOpts struct {
	perm     fs.FileMode
	uid, gid int
}

// Perm sets the file's mode (default 0644). It is applied with fchmod, so
// the process umask does not narrow it.
func Perm(p fs.FileMode) Option { return func(o *writeOpts) { o.perm = p } }

// Owner sets the file's owner; a negative uid or gid keeps the process's
// own, as Nomad does for an unset uid/gid.
func Owner(uid, gid int) Option { return func(o *writeOpts) { o.uid, o.gid = uid, gid } }

// WriteFile writes data to name atomically, creating missing parent
// directories (0755). When the file already holds exactly data with the
// requested mode it is left alone and changed is false. A symlink at name
// is replaced by the new file, not followed.
func (d *Dir) WriteFile(name string, data []byte, opts ...Option) (changed bool, err error) {
	o := writeOpts{perm: 0o644, uid: -1, gid: -1}
	for _, opt := range opts {
		opt(&o)
	}
	if d.same(name, data, o) {
		return false, nil
	}
	dir := filepath.Dir(name)
	if dir != "." {
		if err := d.root.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("create directory for %s: %w", name, err)
		}
	}
	tmp := filepath.Join(dir, "."+filepath.Base(name)+".tmp-"+randomSuffix())
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			d.root.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Chmod(o.perm); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	if o.uid >= 0 || o.gid >= 0 {
		if err := f.Chown(o.uid, o.gid); err != nil {
			return false, fmt.Errorf("write %s: set owner: %w", name, err)
		}
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	if err := d.root.Rename(tmp, name); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	committed = true
	d.syncDir(dir)
	return true, nil
}

// same reports whether name is a regular file (not a symlink) that already
// holds data with the requested mode and owner.
func (d *Dir) same(name string, data []byte, o writeOpts) bool {
	fi, err := d.root.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != o.perm.Perm() || fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != o.perm&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) {
		return false
	}
	if !ownerMatches(fi, o.uid, o.gid) {
		return false
	}
	old, err := d.root.ReadFile(name)
	return err == nil && bytes.Equal(old, data)
}

// syncDir fsyncs a directory so that a rename in it survives a crash. It is
// best effort: not every filesystem supports it.
func (d *Dir) syncDir(dir string) {
	f, err := d.root.Open(dir)
	if err != nil {
		return
	}
	_ = f.Sync()
	f.Close()
}

// Remove removes a file inside the task dir; a missing file is not an
// error.
func (d *Dir) Remove(name string) error {
	err := d.root.Remove(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
