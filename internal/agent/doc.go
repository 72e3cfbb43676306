// Package agent runs every task of a configuration for the tmplrun CLI:
// for each task it creates the task dir, derives the task's Vault token
// (vaultauth), renders and watches its templates (runner), starts its
// process after the first render and supervises it (supervisor), and wires
// a new token into the runner. It turns what happens into one log line per
// event, Prometheus metrics and the /v1/status snapshot.
//
// It is internal: an orchestrator embedding tmplrun uses the runner and
// vaultauth packages directly and brings its own lifecycle.
package agent
