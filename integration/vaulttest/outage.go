package vaulttest

import "time"

// Down stops serving HTTP: connections to Addr are refused and open ones
// (keep-alive, WebSocket) are cut, until Up. Vault itself keeps running
// with its data and tokens; the helper methods still work. Token TTLs
// and leases keep counting down meanwhile.
func (v *Vault) Down() {
	v.server.down()
}

// Up serves HTTP again on the same address; a no-op when Vault is up.
func (v *Vault) Up() {
	v.t.Helper()
	if err := v.server.up(); err != nil {
		v.t.Fatalf("vaulttest: Vault up again: %v", err)
	}
}

// Outage takes Vault down now and brings it up again on the same address
// after d, without blocking. The returned channel is closed once Vault
// serves again, or when Up, Down or Close ends the outage early.
func (v *Vault) Outage(d time.Duration) <-chan struct{} {
	return v.server.outage(d, func(err error) {
		v.t.Logf("vaulttest: Vault up again after outage: %v", err)
	})
}

// IsUp reports whether Vault is serving HTTP.
func (v *Vault) IsUp() bool { return v.server.isUp() }

// Requests returns how many requests Vault has served over HTTP, by
// method and path, since it started or ResetRequests. Every client's
// requests count — Client's, other processes' — except the helper
// methods' own.
func (v *Vault) Requests() Requests { return v.counter.snapshot() }

// ResetRequests sets every count back to zero.
func (v *Vault) ResetRequests() { v.counter.reset() }
