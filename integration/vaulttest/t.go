package vaulttest

import (
	"fmt"

	gotesting "github.com/mitchellh/go-testing-interface"
)

// T is what the harness needs from its caller. *testing.T, *testing.B and
// go-testing-interface's *RuntimeT (for programs such as vault-dev) all
// satisfy it.
//
// RuntimeT's Cleanup does nothing and its Fatal panics: a program that
// starts a Vault must call [Vault.Close] itself.
type T interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Name() string
	Skip(args ...any)
}

var (
	_ T = (*gotesting.RuntimeT)(nil)
)

// vaultT adapts a T to go-testing-interface's T, which Vault's test
// helpers take. The methods Vault's helpers might call but T lacks are
// mapped onto Fatalf and Logf.
type vaultT struct{ t T }

var _ gotesting.T = vaultT{}

func (a vaultT) Cleanup(f func())                  { a.t.Cleanup(f) }
func (a vaultT) Error(args ...any)                 { a.t.Fatalf("%s", fmt.Sprint(args...)) }
func (a vaultT) Errorf(format string, args ...any) { a.t.Fatalf(format, args...) }
func (a vaultT) Fail()                             { a.t.Fatalf("vault test helper failed") }
func (a vaultT) FailNow()                          { a.t.Fatalf("vault test helper failed") }
func (a vaultT) Failed() bool                      { return false }
func (a vaultT) Fatal(args ...any)                 { a.t.Fatalf("%s", fmt.Sprint(args...)) }
func (a vaultT) Fatalf(format string, args ...any) { a.t.Fatalf(format, args...) }
func (a vaultT) Helper()                           { a.t.Helper() }
func (a vaultT) Log(args ...any)                   { a.t.Logf("%s", fmt.Sprint(args...)) }
func (a vaultT) Logf(format string, args ...any)   { a.t.Logf(format, args...) }
func (a vaultT) Name() string                      { return a.t.Name() }
func (a vaultT) Parallel()                         {}
func (a vaultT) Skip(args ...any)                  { a.t.Skip(args...) }
func (a vaultT) SkipNow()                          { a.t.Skip() }
func (a vaultT) Skipf(format string, args ...any)  { a.t.Skip(fmt.Sprintf(format, args...)) }
func (a vaultT) Skipped() bool                     { return false }
