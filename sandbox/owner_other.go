//go:build !unix

package sandbox

import "io/fs"

func ownerMatches(fs.FileInfo, int, int) bool { return true }
