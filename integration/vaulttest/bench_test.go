package vaulttest_test

import (
	"testing"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

// BenchmarkStart measures what a test pays for its own Vault: start,
// unseal, mount the KV engines, and Close.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		v := vaulttest.Start(b, vaulttest.Options{})
		v.Close()
	}
}

// BenchmarkStartDatabase adds a PostgreSQL server and the database
// engine configured against it.
func BenchmarkStartDatabase(b *testing.B) {
	for b.Loop() {
		v := vaulttest.Start(b, vaulttest.Options{})
		v.DatabaseRole("app", vaulttest.DatabaseRole{})
		v.Close()
	}
}
