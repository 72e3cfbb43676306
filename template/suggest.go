package template

import (
	"strings"

	"github.com/agext/levenshtein"
)

// suggest returns the candidate closest to name when it is close enough to
// be a likely typo ("chnage_mode"), or a longer name it abbreviates
// ("left_delim"), or "".
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3 // at most two edits away
	for _, c := range candidates {
		if d := levenshtein.Distance(name, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" || len(name) < 4 {
		return best
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, name) {
			return c
		}
	}
	return ""
}
