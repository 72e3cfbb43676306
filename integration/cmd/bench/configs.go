package main

import (
	"fmt"
	"strings"
	"time"
)

// Vault objects the tmplrun side uses: its tasks get child tokens with
// only the bench policy, derived through a token role (as a production
// setup would), while tmplrun itself logs in with the root token.
const (
	benchPolicy = "bench"
	benchRules  = `path "secret/data/bench/*" { capabilities = ["read"] }`
	taskRole    = "bench-task"
)

// settings are the knobs both systems get the same values for.
type settings struct {
	// lease is vault_default_lease_duration / vault.default_lease_duration:
	// how often secrets without a lease (KV v2) are re-read (× ~0.9).
	// 0 keeps each system's default (5m for both).
	lease time.Duration
}

// tmplrunConfig is one tmplrun config file for every task of w: tmplrun
// logs in with $VAULT_TOKEN, each task gets a child token through
// taskRole, no quiescence, no splay, change_mode noop (tasks without a
// command only render).
func tmplrunConfig(addr string, w workload, s settings) string {
	var b strings.Builder
	fmt.Fprintf(&b, "vault {\n  address          = %q\n  create_from_role = %q\n  auth \"token\" {}\n}\n\n", addr, taskRole)
	b.WriteString("template_config {\n")
	if s.lease > 0 {
		fmt.Fprintf(&b, "  vault_default_lease_duration = %q\n", s.lease.String())
	}
	b.WriteString("  wait {\n    min = \"0s\"\n    max = \"0s\"\n  }\n}\n")
	for i := 0; i < w.tasks; i++ {
		fmt.Fprintf(&b, "\ntask %q {\n  vault {\n    policies = [%q]\n  }\n", taskName(i), benchPolicy)
		for j := 0; j < w.templates; j++ {
			fmt.Fprintf(&b, "  template {\n    destination = %q\n    change_mode = \"noop\"\n    splay       = \"0s\"\n    data        = <<EOT\n%s\nEOT\n  }\n",
				destination(j), w.text(i, j))
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// peerConfig is the consul-template config of task i of w: the same
// templates and destinations, the given token, no token renewal (as
// Nomad runs it), no quiescence.
func peerConfig(addr, token, root string, w workload, i int, s settings) string {
	var b strings.Builder
	b.WriteString("log_level = \"warn\"\n\n")
	fmt.Fprintf(&b, "vault {\n  address     = %q\n  token       = %q\n  renew_token = false\n", addr, token)
	if s.lease > 0 {
		fmt.Fprintf(&b, "  default_lease_duration = %q\n", s.lease.String())
	}
	b.WriteString("}\n\nwait {\n  min = \"0s\"\n  max = \"0s\"\n}\n")
	for j := 0; j < w.templates; j++ {
		fmt.Fprintf(&b, "\ntemplate {\n  destination = %q\n  contents    = <<EOT\n%s\nEOT\n}\n", w.file(root, i, j), w.text(i, j))
	}
	return b.String()
}
