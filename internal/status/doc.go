// Package status is the CLI's HTTP status and metrics server (-http-addr):
// GET /v1/status answers a JSON snapshot of every task, GET /metrics
// Prometheus text. Nothing secret is in either: the snapshot carries token
// TTLs and states, never tokens; template errors are already redacted by
// the runner.
package status
