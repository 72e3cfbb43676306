package template

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Directories every task dir has, and what Nomad's runtime variables name.
const (
	LocalDir   = "local"   // ${NOMAD_TASK_DIR}
	SecretsDir = "secrets" // ${NOMAD_SECRETS_DIR}, mode 0700
	TmpDir     = "tmp"
	AllocDir   = "alloc" // ${NOMAD_ALLOC_DIR}; inside the task dir here
)

// TokenFile is where a task's Vault token is written, relative to its
// task dir (Nomad's ${NOMAD_SECRETS_DIR}/vault_token); vaultauth writes
// it, validation keeps templates from writing there.
const TokenFile = SecretsDir + "/vault_token"

// NomadDirs maps the Nomad runtime variables that tmplrun resolves in
// paths to the task-dir-relative directory they name.
var NomadDirs = map[string]string{
	"NOMAD_TASK_DIR":    LocalDir,
	"NOMAD_SECRETS_DIR": SecretsDir,
	"NOMAD_ALLOC_DIR":   AllocDir,
}

// ErrOutsideTaskDir is returned by ResolvePath for a path that would leave
// the task dir.
var ErrOutsideTaskDir = errors.New("path is outside the task dir")

var interpolation = regexp.MustCompile(`\$\{([^}]*)\}`)

// ResolvePath turns a template source or destination as written into a
// clean path relative to the task dir: ${NOMAD_TASK_DIR},
// ${NOMAD_SECRETS_DIR} and ${NOMAD_ALLOC_DIR} become local, secrets and
// alloc; an absolute path is accepted only when it lies inside taskDir
// (which must then be absolute). A path that escapes the task dir, through
// ".." or by being absolute elsewhere, is refused with ErrOutsideTaskDir.
func ResolvePath(taskDir, p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", errors.New("path is empty")
	}
	var unknown []string
	p = interpolation.ReplaceAllStringFunc(p, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-1])
		if dir, ok := NomadDirs[name]; ok {
			// Nomad's variables are absolute paths; make the rest of the
			// path hang off the task dir.
			return "/" + dir
		}
		unknown = append(unknown, m)
		return m
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("path uses %s, which tmplrun cannot resolve (it knows ${NOMAD_TASK_DIR}, ${NOMAD_SECRETS_DIR} and ${NOMAD_ALLOC_DIR})", strings.Join(unknown, ", "))
	}
	for _, dir := range NomadDirs {
		if p == "/"+dir || strings.HasPrefix(p, "/"+dir+"/") {
			// Came from a Nomad variable, or names one of the task dir's
			// own directories the way Nomad's chroot shows them.
			p = strings.TrimPrefix(p, "/")
			break
		}
	}
	if filepath.IsAbs(p) {
		if !filepath.IsAbs(taskDir) {
			return "", fmt.Errorf("%w: %q is absolute; write it relative to the task dir, e.g. %q", ErrOutsideTaskDir, p, "local/"+filepath.Base(p))
		}
		rel, err := filepath.Rel(filepath.Clean(taskDir), filepath.Clean(p))
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return "", fmt.Errorf("%w: %q is not inside the task dir %s; write it relative to the task dir, e.g. %q", ErrOutsideTaskDir, p, taskDir, "local/"+filepath.Base(p))
		}
		p = rel
	}
	clean := filepath.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%w: %q climbs out of the task dir through \"..\"", ErrOutsideTaskDir, p)
	}
	if clean == "." {
		return "", errors.New("path names the task dir itself, not a file in it")
	}
	return clean, nil
}

// canonicalPath is ResolvePath for Canonicalize: it keeps p unchanged when
// it does not resolve, so that Validate can report it.
func canonicalPath(taskDir, p string) string {
	if p == "" {
		return p
	}
	r, err := ResolvePath(taskDir, p)
	if err != nil {
		return p
	}
	return r
}
