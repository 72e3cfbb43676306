package runner

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/template"
)

func TestSplitDenylist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		deny             []string
		wantExact, globs []string
	}{
		{"none", nil, nil, nil},
		{"the default list is exact names", template.DefaultFunctionDenylist, template.DefaultFunctionDenylist, nil},
		{"patterns are left to consul-template", []string{"sprig_*", "plugin", "*File"}, []string{"plugin"}, []string{"sprig_*", "*File"}},
		{"duplicates count once", []string{"plugin", "plugin", "a*", "a*"}, []string{"plugin"}, []string{"a*"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			exact, globs := splitDenylist(tc.deny)
			if diff := cmp.Diff(tc.wantExact, exact); diff != "" {
				t.Errorf("exact (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.globs, globs); diff != "" {
				t.Errorf("globs (-want +got):\n%s", diff)
			}
		})
	}
}

// Runners reaching the same Vault with the same TLS settings share one
// transport; anything that changes how to connect gets its own — a
// client certificate rotated in place included.
func TestSharedConnPerVaultAndTLS(t *testing.T) {
	// Not parallel: it rewrites a certificate file between calls.
	dir := t.TempDir()
	cert := filepath.Join(dir, "client.pem")
	write := func(s string) {
		if err := os.WriteFile(cert, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	conn := func(vc template.VaultCluster) vaultConn {
		u, err := url.Parse(vc.Address)
		if err != nil {
			t.Fatal(err)
		}
		return sharedConn(keyOf(&vc, u), &http.Transport{})
	}
	base := template.VaultCluster{Address: "https://vault.test:8200", CertFile: cert, KeyFile: cert}
	a := conn(base)
	if b := conn(base); b.tr != a.tr || b.mounts != a.mounts {
		t.Error("the same Vault and TLS settings got another transport")
	}
	other := base
	other.Address = "https://vault2.test:8200"
	skip := base
	skip.TLSSkipVerify = true
	for name, vc := range map[string]template.VaultCluster{"another address": other, "tls_skip_verify": skip} {
		if c := conn(vc); c.tr == a.tr {
			t.Errorf("%s shares the transport", name)
		}
	}
	write("rotated")
	if c := conn(base); c.tr == a.tr {
		t.Error("a rotated client certificate shares the old transport")
	}
}
