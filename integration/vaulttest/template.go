package vaulttest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/physical"
	"github.com/hashicorp/vault/sdk/physical/inmem"
	"github.com/hashicorp/vault/vault"
)

// Most of a new Vault's start-up is spent generating RSA keys for the
// identity store's default OIDC key. The first Vault of a process is set
// up from scratch and its storage kept as a template; later ones start
// from a copy of it and are only unsealed. They share the template's
// keys, root token and mount accessors, and nothing else.
var tmpl struct {
	mu   sync.Mutex // held while the first Vault is set up
	snap *snapshot
}

// snapshot is a freshly set-up Vault: its storage, unseal keys and root
// token.
type snapshot struct {
	entries []*physical.Entry
	keys    [][]byte
	root    string
}

// unsealedCore returns an unsealed core with the KV engines mounted, and
// its root token.
func unsealedCore(t T, logger hclog.Logger) (*vault.Core, string, error) {
	tmpl.mu.Lock()
	if s := tmpl.snap; s != nil {
		tmpl.mu.Unlock()
		return s.restore(t, logger)
	}
	defer tmpl.mu.Unlock()

	phys, err := inmem.NewInmem(nil, logger)
	if err != nil {
		return nil, "", err
	}
	core, err := newCore(phys, logger)
	if err != nil {
		return nil, "", err
	}
	root, keys, err := initUnseal(t, core)
	if err == nil {
		err = mountKV(core, root)
	}
	var entries []*physical.Entry
	if err == nil {
		entries, err = dump(context.Background(), phys)
	}
	if err != nil {
		_ = core.ShutdownWait()
		return nil, "", err
	}
	tmpl.snap = &snapshot{entries: entries, keys: keys, root: root}
	return core, root, nil
}

// restore starts a core on a copy of the snapshot's storage and unseals
// it.
func (s *snapshot) restore(t T, logger hclog.Logger) (*vault.Core, string, error) {
	phys, err := inmem.NewInmem(nil, logger)
	if err != nil {
		return nil, "", err
	}
	ctx := context.Background()
	for _, e := range s.entries {
		if err := phys.Put(ctx, &physical.Entry{Key: e.Key, Value: append([]byte(nil), e.Value...)}); err != nil {
			return nil, "", err
		}
	}
	core, err := newCore(phys, logger)
	if err != nil {
		return nil, "", err
	}
	if err := unseal(t, core, s.keys); err != nil {
		_ = core.ShutdownWait()
		return nil, "", err
	}
	return core, s.root, nil
}

// dump reads every entry of a physical backend.
func dump(ctx context.Context, b physical.Backend) ([]*physical.Entry, error) {
	var out []*physical.Entry
	var walk func(prefix string) error
	walk = func(prefix string) error {
		keys, err := b.List(ctx, prefix)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if strings.HasSuffix(k, "/") {
				if err := walk(prefix + k); err != nil {
					return err
				}
				continue
			}
			e, err := b.Get(ctx, prefix+k)
			if err != nil {
				return err
			}
			if e == nil {
				return fmt.Errorf("storage entry %q vanished", prefix+k)
			}
			out = append(out, &physical.Entry{Key: e.Key, Value: append([]byte(nil), e.Value...)})
		}
		return nil
	}
	return out, walk("")
}
