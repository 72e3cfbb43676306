package vaulttest_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

func TestRequests(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.WriteKV("web/config", map[string]any{"k": "v"})
	c := v.Client()
	for i := 0; i < 3; i++ {
		readKV2(t, c, "web/config")
	}
	if _, err := c.Logical().List("secret/metadata/web"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("secret/data/web/other", map[string]any{"data": map[string]any{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	v.WriteKV("web/config", map[string]any{"k": "v2"}) // a helper: not counted

	got := v.Requests()
	want := vaulttest.Requests{
		{Method: "GET", Path: "secret/data/web/config"}: 3,
		{Method: "LIST", Path: "secret/metadata/web"}:   1,
		{Method: "PUT", Path: "secret/data/web/other"}:  1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if got.Total() != 5 || got.Reads("secret/data/web/config") != 3 ||
		got.Path("secret/data/web/other") != 1 || got.Prefix("secret/") != 5 {
		t.Errorf("Total %d, Reads %d, Path %d, Prefix %d; want 5, 3, 1, 5",
			got.Total(), got.Reads("secret/data/web/config"), got.Path("secret/data/web/other"), got.Prefix("secret/"))
	}

	v.ResetRequests()
	if n := v.Requests().Total(); n != 0 {
		t.Errorf("after ResetRequests: %d requests", n)
	}
}
