// Package vaultauthtest runs package vaultauth against a real Vault 1.14.1
// in-process (integration/vaulttest): task tokens' policies, renewals of
// periodic tokens, replacement after an outside revocation, outages,
// workload-identity logins to JWT roles, AppRole logins from files, and
// revocation at stop. It has only tests.
package vaultauthtest
