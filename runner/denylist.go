package runner

import (
	"errors"
	"strings"
)

// splitDenylist separates the functions a template may not call into
// exact names and glob patterns (go-glob's only wildcard is '*').
//
// consul-template applies its FunctionDenylist on every execution: it
// rebuilds its map of some 180 functions and matches every pattern
// against every name (go-glob splits the pattern each time). With the
// default denylist plus the Consul and Nomad functions — 29 names — that
// was about 5,000 matches and their allocations per execution, most of
// the CPU of a first render. Exact names are therefore replaced through
// ExtFuncMap (a map copy consul-template makes anyway) and only real
// patterns, usually none, are left to consul-template.
func splitDenylist(deny []string) (exact, globs []string) {
	seen := map[string]bool{}
	for _, d := range deny {
		if seen[d] {
			continue
		}
		seen[d] = true
		if strings.Contains(d, "*") {
			globs = append(globs, d)
		} else {
			exact = append(exact, d)
		}
	}
	return exact, globs
}

// errDisabled is what a denied function returns, as consul-template's.
var errDisabled = errors.New("function is disabled")

// disabled stands in for a denied function; its signature is
// consul-template's own stand-in's.
func disabled(...string) (string, error) { return "", errDisabled }
