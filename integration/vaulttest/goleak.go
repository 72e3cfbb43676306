package vaulttest

import "go.uber.org/goleak"

// GoleakOptions ignore the goroutines Vault 1.14.1 itself leaves behind
// after Close (cache janitors, background loops it never stops, the
// events endpoint's 30 s pinger, OpenCensus's worker), so that
// goleak.VerifyTestMain(m, vaulttest.GoleakOptions()...) finds the leaks
// of the code under test. Use it in TestMain rather than VerifyNone in
// parallel tests: other tests' Vaults are running then.
func GoleakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/patrickmn/go-cache.(*janitor).Run"),
		goleak.IgnoreAnyFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("github.com/hashicorp/vault/vault.(*Core).updateLockedUserEntries.func1"),
		goleak.IgnoreAnyFunction("github.com/hashicorp/vault/vault.(*Core).setupCachedMFAResponseAuth.func1"),
		goleak.IgnoreAnyFunction("github.com/hashicorp/vault/http.handleEventsSubscribe.func1.1"),
	}
}
