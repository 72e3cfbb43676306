package vaulttest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

func TestStartMountsAndExperiments(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	c := v.Client()

	mounts, err := c.Sys().ListMounts()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for path, m := range mounts {
		got[path] = m.Type + " " + m.Options["version"]
	}
	want := map[string]string{
		"secret/":    "kv 2",
		"kv/":        "kv 1",
		"sys/":       "system ",
		"cubbyhole/": "cubbyhole ",
		"identity/":  "identity ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}

	s, err := c.Logical().Read("sys/experiments")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"events.alpha1"}, s.Data["enabled"]); diff != "" {
		t.Errorf("enabled experiments (-want +got):\n%s", diff)
	}
}

func TestStartRootToken(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{RootToken: "dev-root"})
	if v.RootToken != "dev-root" {
		t.Fatalf("RootToken = %q, want dev-root", v.RootToken)
	}
	s, err := v.Client().Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	policies, err := s.TokenPolicies()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"root"}, policies); diff != "" {
		t.Errorf("root token policies (-want +got):\n%s", diff)
	}
}

func TestCloseStopsServing(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	c := v.Client()
	v.Close()
	v.Close() // again: a no-op
	_, err := c.Sys().Health()
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("request after Close: err = %v, want connection refused", err)
	}
}

// helperEnv makes the test binary, run as a child, act as another
// process reading a secret from Vault.
const helperEnv = "VAULTTEST_HELPER_PROCESS"

func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestOtherProcess")
	}
	req, _ := http.NewRequest(http.MethodGet, os.Getenv("VAULT_ADDR")+"/v1/secret/data/web/config", nil)
	req.Header.Set("X-Vault-Token", os.Getenv("VAULT_TOKEN"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Data map[string]string `json:"data"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("greeting=%s\n", body.Data.Data["greeting"])
	os.Exit(0)
}

func TestOtherProcess(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	v.WriteKV("web/config", map[string]any{"greeting": "hello"})
	v.ResetRequests()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "VAULT_ADDR="+v.Addr, "VAULT_TOKEN="+v.RootToken)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "greeting=hello" {
		t.Errorf("helper process printed %q, want greeting=hello", got)
	}
	want := vaulttest.Requests{{Method: "GET", Path: "secret/data/web/config"}: 1}
	if diff := cmp.Diff(want, v.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}
