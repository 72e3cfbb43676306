// Package vaultauth is tmplrun's side of Vault authentication.
package vaultauth
