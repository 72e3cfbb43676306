// Package runnertest runs the runner against a real, in-process Vault
// (integration/vaulttest): KV changes re-render and act, outages leave
// files and tasks alone, token switches re-fetch nothing, dynamic
// database credentials are renewed then re-issued, symlinks planted at
// destinations are not followed, and nothing is left running after Stop.
//
// The tests are not parallel: they count Vault requests and goroutines,
// and consul-template's lease settings are process-wide (the first runner
// sets vault_default_lease_duration to leaseDuration for all of them).
package runnertest
