package vaulttest_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/vault/api"
	"github.com/tmplrun/tmplrun/integration/vaulttest"
)

func TestKV2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		path        string                       // default "app"
		do          func(v *vaulttest.Vault) int // returns the last version written
		wantVersion int
		want        map[string]any // data read back over HTTP; nil: none
	}{
		{
			name:        "write",
			do:          func(v *vaulttest.Vault) int { return v.WriteKV("app", map[string]any{"user": "u1", "pass": "p1"}) },
			wantVersion: 1,
			want:        map[string]any{"user": "u1", "pass": "p1"},
		},
		{
			name: "write twice",
			do: func(v *vaulttest.Vault) int {
				v.WriteKV("app", map[string]any{"user": "u1"})
				return v.WriteKV("app", map[string]any{"user": "u2"})
			},
			wantVersion: 2,
			want:        map[string]any{"user": "u2"},
		},
		{
			name: "patch merges and removes",
			do: func(v *vaulttest.Vault) int {
				v.WriteKV("app", map[string]any{"user": "u1", "pass": "p1"})
				return v.PatchKV("app", map[string]any{"pass": nil, "port": "5432"})
			},
			wantVersion: 2,
			want:        map[string]any{"user": "u1", "port": "5432"},
		},
		{
			name: "delete latest version",
			do: func(v *vaulttest.Vault) int {
				v.WriteKV("app", map[string]any{"user": "u1"})
				v.DeleteKV("app")
				return 1
			},
			wantVersion: 1,
			want:        nil,
		},
		{
			name: "destroy all versions",
			do: func(v *vaulttest.Vault) int {
				v.WriteKV("app", map[string]any{"user": "u1"})
				v.DestroyKV("app")
				return 1
			},
			wantVersion: 1,
			want:        nil,
		},
		{
			name:        "nested path",
			path:        "web/prod/config",
			do:          func(v *vaulttest.Vault) int { return v.WriteKV("web/prod/config", map[string]any{"k": "v"}) },
			wantVersion: 1,
			want:        map[string]any{"k": "v"},
		},
	}
	v := vaulttest.Start(t, vaulttest.Options{})
	c := v.Client()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "app"
			}
			v.DestroyKV(path)
			if got := tt.do(v); got != tt.wantVersion {
				t.Errorf("version = %d, want %d", got, tt.wantVersion)
			}
			if diff := cmp.Diff(tt.want, readKV2(t, c, path)); diff != "" {
				t.Errorf("secret/data/%s over HTTP (-want +got):\n%s", path, diff)
			}
			if diff := cmp.Diff(tt.want, v.ReadKV(path)); diff != "" {
				t.Errorf("ReadKV(%s) (-want +got):\n%s", path, diff)
			}
		})
	}
}

// readKV2 reads the latest data of a KV v2 secret over HTTP, nil when
// there is none.
func readKV2(t *testing.T, c *api.Client, path string) map[string]any {
	t.Helper()
	s, err := c.Logical().Read("secret/data/" + path)
	if err != nil {
		t.Fatalf("read secret/data/%s: %v", path, err)
	}
	if s == nil {
		return nil
	}
	data, _ := s.Data["data"].(map[string]any)
	return data
}

func TestKV1(t *testing.T) {
	t.Parallel()
	v := vaulttest.Start(t, vaulttest.Options{})
	c := v.Client()

	v.WriteKV1("app", map[string]any{"user": "u1"})
	s, err := c.Logical().Read("kv/app")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"user": "u1"}, s.Data); diff != "" {
		t.Errorf("kv/app over HTTP (-want +got):\n%s", diff)
	}
	if s.LeaseDuration == 0 {
		t.Errorf("kv/app: lease_duration 0, want KV v1's refresh interval (the default TTL)")
	}

	v.DeleteKV1("app")
	s, err = c.Logical().Read("kv/app")
	if err != nil {
		t.Fatal(err)
	}
	if s != nil {
		t.Errorf("kv/app after DeleteKV1 = %v, want nothing", s.Data)
	}
}
