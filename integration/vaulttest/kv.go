package vaulttest

import (
	"encoding/json"
	"net/http"

	"github.com/hashicorp/vault/api"
)

// WriteKV writes data as a new version of the KV v2 secret at path under
// secret/ (path "web/config" is read at secret/data/web/config) and
// returns the new version number.
func (v *Vault) WriteKV(path string, data map[string]any) int {
	v.t.Helper()
	s := v.write(KV2Mount+"/data/"+path, map[string]any{"data": data})
	return version(s)
}

// PatchKV merges data into the latest version of the KV v2 secret at path
// (a JSON merge patch: a nil value removes a key) and returns the new
// version number.
func (v *Vault) PatchKV(path string, data map[string]any) int {
	v.t.Helper()
	s := v.raw(http.MethodPatch, KV2Mount+"/data/"+path, "application/merge-patch+json",
		map[string]any{"data": data})
	return version(s)
}

// ReadKV returns the data of the latest version of the KV v2 secret at
// path, or nil when there is none (never written, deleted or destroyed).
func (v *Vault) ReadKV(path string) map[string]any {
	v.t.Helper()
	s := v.read(KV2Mount + "/data/" + path)
	if s == nil || s.Data == nil {
		return nil
	}
	data, _ := s.Data["data"].(map[string]any)
	return data
}

// DeleteKV soft-deletes the latest version of the KV v2 secret at path,
// like `vault kv delete`: reads then find no data until a new version is
// written.
func (v *Vault) DeleteKV(path string) {
	v.t.Helper()
	v.delete(KV2Mount + "/data/" + path)
}

// DestroyKV removes the KV v2 secret at path with all its versions and
// metadata, like `vault kv metadata delete`.
func (v *Vault) DestroyKV(path string) {
	v.t.Helper()
	v.delete(KV2Mount + "/metadata/" + path)
}

// WriteKV1 writes data to the KV v1 secret at path under kv/ (path "app"
// is read at kv/app).
func (v *Vault) WriteKV1(path string, data map[string]any) {
	v.t.Helper()
	v.write(KV1Mount+"/"+path, data)
}

// DeleteKV1 deletes the KV v1 secret at path under kv/.
func (v *Vault) DeleteKV1(path string) {
	v.t.Helper()
	v.delete(KV1Mount + "/" + path)
}

// version is the "version" a KV v2 write or patch returns.
func version(s *api.Secret) int {
	if s == nil || s.Data == nil {
		return 0
	}
	n, _ := s.Data["version"].(json.Number)
	i, _ := n.Int64()
	return int(i)
}
