package vaultauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/tmplrun/tmplrun/template"
)

// Clusters are the named Vault clusters of a configuration (its agent
// vault blocks). A task's vault block picks one by name with `cluster`.
// Nothing is contacted until a task needs it.
type Clusters struct {
	byName map[string]*Cluster
	order  []*Cluster
}

// NewClusters prepares every vault block (see New). Two blocks with the
// same name are an error.
func NewClusters(blocks []*template.VaultCluster, opts Options) (*Clusters, error) {
	cs := &Clusters{byName: map[string]*Cluster{}}
	var errs []error
	for _, b := range blocks {
		name := clusterName(b)
		if _, dup := cs.byName[name]; dup {
			errs = append(errs, fmt.Errorf("vault cluster %s is defined twice", name))
			continue
		}
		c, err := New(b, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs.byName[name] = c
		cs.order = append(cs.order, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cs, nil
}

// Get returns the cluster named name ("" means "default").
func (cs *Clusters) Get(name string) (*Cluster, bool) {
	if name == "" {
		name = template.DefaultCluster
	}
	c, ok := cs.byName[name]
	return c, ok
}

// Task derives task t's token on the cluster its vault block names (see
// Cluster.Task).
func (cs *Clusters) Task(ctx context.Context, t *template.Task) (*TaskToken, error) {
	if t.Vault == nil {
		return nil, errors.New("vault: the task has no vault block")
	}
	c, ok := cs.Get(t.Vault.Cluster)
	if !ok {
		return nil, fmt.Errorf("vault: no vault cluster named %q", t.Vault.Cluster)
	}
	return c.Task(ctx, t)
}

// Status is the state of tmplrun's own token on every cluster, in the
// order of the vault blocks.
func (cs *Clusters) Status() []Status {
	out := make([]Status, 0, len(cs.order))
	for _, c := range cs.order {
		out = append(out, c.Status())
	}
	return out
}

// Close closes every cluster (see Cluster.Close).
func (cs *Clusters) Close(ctx context.Context) error {
	var errs []error
	for _, c := range cs.order {
		errs = append(errs, c.Close(ctx))
	}
	return errors.Join(errs...)
}
