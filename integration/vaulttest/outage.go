package vaulttest

import "time"

// Down stops serving HTTP (and HTTPS, see ServeTLS): connections to Addr
// are refused and open ones (keep-alive, WebSocket) are cut, until Up.
// Vault itself keeps running with its data and tokens; the helper methods
// still work. Token TTLs and leases keep counting down meanwhile.
func (v *Vault) Down() {
	for _, s := range v.servers() {
		s.down()
	}
}

// Up serves HTTP (and HTTPS) again on the same addresses; a no-op when
// Vault is up.
func (v *Vault) Up() {
	v.t.Helper()
	for _, s := range v.servers() {
		if err := s.up(); err != nil {
			v.t.Fatalf("vaulttest: Vault up again: %v", err)
		}
	}
}

// Outage takes Vault down now and brings it up again on the same
// addresses after d, without blocking. The returned channel is closed once
// Vault serves again, or when Up, Down or Close ends the outage early.
func (v *Vault) Outage(d time.Duration) <-chan struct{} {
	report := func(err error) { v.t.Logf("vaulttest: Vault up again after outage: %v", err) }
	servers := v.servers()
	if len(servers) == 1 {
		return servers[0].outage(d, report)
	}
	backs := make([]<-chan struct{}, 0, len(servers))
	for _, s := range servers {
		backs = append(backs, s.outage(d, report))
	}
	all := make(chan struct{})
	go func() { // ends at the latest when Close ends every outage
		defer close(all)
		for _, b := range backs {
			<-b
		}
	}()
	return all
}

// IsUp reports whether Vault is serving HTTP (Down, Up and Outage move
// the HTTPS listener of ServeTLS together with it).
func (v *Vault) IsUp() bool { return v.server.isUp() }

// servers are the listeners: HTTP, and HTTPS once ServeTLS ran.
func (v *Vault) servers() []*server {
	v.tlsMu.Lock()
	defer v.tlsMu.Unlock()
	if v.tls == nil {
		return []*server{v.server}
	}
	return []*server{v.server, v.tls.server}
}

// Requests returns how many requests Vault has served over HTTP, by
// method and path, since it started or ResetRequests. Every client's
// requests count — Client's, other processes' — except the helper
// methods' own.
func (v *Vault) Requests() Requests { return v.counter.snapshot() }

// ResetRequests sets every count back to zero.
func (v *Vault) ResetRequests() { v.counter.reset() }
