// Package sandbox is confined, atomic file I/O inside a task directory.
//
// A task's templates, its Vault token file and its script working
// directory all live in one task dir. Every read and write tmplrun makes
// there goes through a Dir, which is an os.Root opened on the task dir:
// a path that leaves the dir — through "..", an absolute path, or a
// symlink planted later that points outside — fails instead of being
// followed. Writes are atomic: a temporary file in the destination's
// directory, written, fsynced, given its mode and owner, then renamed over
// the destination, so a reader never sees an empty or partial file and a
// symlink at the destination is replaced, never written through.
//
//	d, err := sandbox.Create("/srv/web")   // makes alloc/, local/, secrets/ (0700), tmp/
//	if err != nil { … }
//	defer d.Close()
//	changed, err := d.WriteFile("secrets/app.env", data, sandbox.Perm(0o600))
package sandbox
