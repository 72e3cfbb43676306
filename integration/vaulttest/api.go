package vaulttest

import (
	"context"
	"net/http"
	"time"

	"github.com/hashicorp/vault/api"
)

// helperTimeout bounds each request a helper makes.
const helperTimeout = 30 * time.Second

// write is an update on path with the root token; the test stops on error.
func (v *Vault) write(path string, data map[string]any) *api.Secret {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
	defer cancel()
	s, err := v.internal.Logical().WriteWithContext(ctx, path, data)
	if err != nil {
		v.t.Fatalf("vaulttest: write %s: %v", path, err)
	}
	return s
}

// read reads path with the root token; nil when there is nothing there.
func (v *Vault) read(path string) *api.Secret {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
	defer cancel()
	s, err := v.internal.Logical().ReadWithContext(ctx, path)
	if err != nil {
		v.t.Fatalf("vaulttest: read %s: %v", path, err)
	}
	return s
}

// delete deletes path with the root token.
func (v *Vault) delete(path string) {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
	defer cancel()
	if _, err := v.internal.Logical().DeleteWithContext(ctx, path); err != nil {
		v.t.Fatalf("vaulttest: delete %s: %v", path, err)
	}
}

// raw sends a request the Logical API cannot express (e.g. a JSON merge
// patch).
func (v *Vault) raw(method, path, contentType string, body any) *api.Secret {
	v.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
	defer cancel()
	r := v.internal.NewRequest(method, "/v1/"+path)
	if err := r.SetJSONBody(body); err != nil {
		v.t.Fatalf("vaulttest: %s %s: %v", method, path, err)
	}
	if contentType != "" {
		r.Headers.Set("Content-Type", contentType)
	}
	resp, err := v.internal.RawRequestWithContext(ctx, r)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		v.t.Fatalf("vaulttest: %s %s: %v", method, path, err)
	}
	if resp.StatusCode == http.StatusNoContent {
		return nil
	}
	s, err := api.ParseSecret(resp.Body)
	if err != nil {
		v.t.Fatalf("vaulttest: %s %s: %v", method, path, err)
	}
	return s
}

// enable mounts an auth method (auth = true) or a secrets engine of type
// typ at path, once.
func (v *Vault) enable(auth bool, path, typ string) {
	v.t.Helper()
	key := "secrets/" + path
	if auth {
		key = "auth/" + path
	}
	v.mu.Lock()
	done := v.mounts[key]
	v.mounts[key] = true
	v.mu.Unlock()
	if done {
		return
	}
	var err error
	if auth {
		err = v.internal.Sys().EnableAuthWithOptions(path, &api.EnableAuthOptions{Type: typ})
	} else {
		err = v.internal.Sys().Mount(path, &api.MountInput{Type: typ})
	}
	if err != nil {
		v.mu.Lock()
		delete(v.mounts, key)
		v.mu.Unlock()
		v.t.Fatalf("vaulttest: enable %s at %s: %v", typ, path, err)
	}
}
