package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func cmdVersion(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintf(stdout, "tmplrun %s\n", version)
	fmt.Fprintf(stdout, "consul-template %s\n", moduleVersion("github.com/hashicorp/consul-template"))
	fmt.Fprintf(stdout, "vault api %s\n", moduleVersion("github.com/hashicorp/vault/api"))
	fmt.Fprintf(stdout, "go %s\n", runtime.Version())
	return 0
}

// moduleVersion reads a dependency's version from the build info.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, m := range bi.Deps {
		if m.Path == path {
			if m.Replace != nil {
				return m.Replace.Version
			}
			return m.Version
		}
	}
	return "unknown"
}
