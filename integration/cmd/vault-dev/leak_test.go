package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, vaulttest.GoleakOptions()...)
}
