package template

import (
	"path/filepath"
	"testing"
)

func TestFilePathsRelativeToConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `
vault {
  ca_file = "tls/ca.pem"
  auth "approle" {
    role_id_file   = "creds/role_id"
    secret_id_file = "/abs/secret_id"
  }
  identity {
    signing_key_file = "wid.pem"
  }
}
task "web" {
  dir = "srv/web"
}
`
	cfg, err := Parse(filepath.Join(dir, "tmplrun.hcl"), []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := cfg.Vaults[0]
	for got, want := range map[string]string{
		v.CAFile:                  filepath.Join(dir, "tls/ca.pem"),
		v.Auth.RoleIDFile:         filepath.Join(dir, "creds/role_id"),
		v.Auth.SecretIDFile:       "/abs/secret_id",
		v.Identity.SigningKeyFile: filepath.Join(dir, "wid.pem"),
		cfg.Tasks[0].Dir:          filepath.Join(dir, "srv/web"),
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
