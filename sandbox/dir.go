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
	"strings"
	"time"
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
// directories (0755), and reports whether the file's content changed.
// When the file already holds exactly data with the requested mode and
// owner it is left alone; when only its mode or owner differ (someone
// chmodded it) it is rewritten the same way, to put them back, and changed
// is false: the content is what it was. A symlink at name is replaced by
// the new file, not followed.
func (d *Dir) WriteFile(name string, data []byte, opts ...Option) (changed bool, err error) {
	o := writeOpts{perm: 0o644, uid: -1, gid: -1}
	for _, opt := range opts {
		opt(&o)
	}
	content, meta := d.same(name, data, o)
	if content && meta {
		return false, nil
	}
	if err := d.write(name, data, o); err != nil {
		return false, err
	}
	return !content, nil
}

// write writes data to name atomically: a temporary file in the same
// directory, its mode and owner set, fsynced, renamed over name.
func (d *Dir) write(name string, data []byte, o writeOpts) error {
	dir := filepath.Dir(name)
	if dir != "." {
		if err := d.root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create directory for %s: %w", name, err)
		}
	}
	tmp := filepath.Join(dir, "."+filepath.Base(name)+tempMark+randomSuffix())
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			d.root.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Chmod(o.perm); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if o.uid >= 0 || o.gid >= 0 {
		if err := f.Chown(o.uid, o.gid); err != nil {
			return fmt.Errorf("write %s: set owner: %w", name, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := d.root.Rename(tmp, name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	committed = true
	d.syncDir(dir)
	return nil
}

// same reports whether name is a regular file (not a symlink) that already
// holds data (content), and whether it has the requested mode and owner
// (meta).
func (d *Dir) same(name string, data []byte, o writeOpts) (content, meta bool) {
	fi, err := d.root.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(data)) {
		return false, false
	}
	const special = fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
	meta = fi.Mode().Perm() == o.perm.Perm() && fi.Mode()&special == o.perm&special && ownerMatches(fi, o.uid, o.gid)
	old, err := d.root.ReadFile(name)
	return err == nil && bytes.Equal(old, data), meta
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

// tempMark and a random suffix of suffixLen hex digits follow ".<name>"
// in the name of WriteFile's temporary file for name.
const (
	tempMark  = ".tmp-"
	suffixLen = 12
)

// isTemp reports whether base (a file name without directory) is the name
// of one of WriteFile's temporary files.
func isTemp(base string) bool {
	i := strings.LastIndex(base, tempMark)
	if len(base) < 2 || base[0] != '.' || i < 2 {
		return false
	}
	suffix := base[i+len(tempMark):]
	if len(suffix) != suffixLen {
		return false
	}
	for _, c := range suffix {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// RemoveStaleTemps removes, in each of dirs (relative to the task dir),
// WriteFile's temporary files last modified before cutoff: left by a write
// that was interrupted (a crash, a kill) — with a cutoff in the past, never
// a write in progress. Each directory is read once, whatever number of
// files it holds; a missing one is skipped. It returns the paths removed
// and every error met on the way.
func (d *Dir) RemoveStaleTemps(dirs []string, cutoff time.Time) ([]string, error) {
	var removed []string
	var errs []error
	for _, dir := range dirs {
		f, err := d.root.Open(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Names only: on file systems that do not give an entry's type
		// with its name, ReadDir would stat every file.
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", dir, err))
		}
		for _, name := range names {
			if !isTemp(name) {
				continue
			}
			p := filepath.Join(dir, name)
			fi, err := d.root.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(cutoff) {
				continue
			}
			if err := d.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, p)
		}
	}
	return removed, errors.Join(errs...)
}

func randomSuffix() string {
	var b [suffixLen / 2]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
