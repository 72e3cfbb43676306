package vaultauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/vault/api"

	"github.com/tmplrun/tmplrun/template"
)

// Cluster is tmplrun's connection to one Vault cluster — one agent vault
// block. It logs tmplrun in with the block's auth method when a task first
// needs it (or when Login is called), keeps that token alive (renewing it,
// logging in again when it dies), and derives task tokens (Task). All
// methods are safe for concurrent use.
type Cluster struct {
	block *template.VaultCluster
	opts  Options
	cfg   *api.Config
	// addr is cfg.Address as resolved in New: cfg itself is rewritten
	// (under its own lock) by vault/api whenever a client is made from it.
	addr   string
	method method
	signer *Signer // nil without an identity block

	loginMu sync.Mutex // serialises the first login

	// contacted: Vault has answered a request of this cluster's (see
	// keeper.contacted).
	contacted atomic.Bool

	mu     sync.Mutex
	self   *keeper // nil until logged in
	cancel context.CancelFunc
	done   chan struct{}
	tasks  map[*TaskToken]struct{}
	closed bool
}

// New prepares a cluster from its vault block; it reads the identity
// signing key (if any) and checks the auth block, but does not talk to
// Vault.
func New(block *template.VaultCluster, opts Options) (*Cluster, error) {
	opts = opts.withDefaults()
	name := clusterName(block)
	cfg, err := apiConfig(block, opts)
	if err != nil {
		return nil, fmt.Errorf("vault cluster %s: %w", name, err)
	}
	m, err := newMethod(block.Auth, block, opts.Getenv)
	if err != nil {
		return nil, fmt.Errorf("vault cluster %s: %w", name, err)
	}
	c := &Cluster{block: block, opts: opts, cfg: cfg, addr: cfg.Address, method: m, tasks: map[*TaskToken]struct{}{}}
	if block.Identity != nil {
		if c.signer, err = NewSigner(block.Identity, opts.Node); err != nil {
			return nil, fmt.Errorf("vault cluster %s: %w", name, err)
		}
	}
	return c, nil
}

func clusterName(b *template.VaultCluster) string {
	if b.Name == "" {
		return template.DefaultCluster
	}
	return b.Name
}

// Name is the cluster's name ("default" for an unnamed vault block).
func (c *Cluster) Name() string { return clusterName(c.block) }

// Address is the Vault address the cluster's clients use.
func (c *Cluster) Address() string { return c.addr }

// Signer is the cluster's workload identity signer; nil when its vault
// block has no identity block.
func (c *Cluster) Signer() *Signer { return c.signer }

// Login logs tmplrun in, unless it already is, and starts keeping its
// token alive. Vault being unreachable is retried with backoff until ctx
// ends; a refusal (bad credentials, unknown role) is returned at once.
// Task calls it when a task needs tmplrun's token (policies).
func (c *Cluster) Login(ctx context.Context) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("vault cluster %s: %w", c.Name(), ErrStopped)
	}
	if c.self != nil {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()

	src := &selfSource{tokenOps: tokenOps{client: c.client}, cluster: c}
	k := c.newKeeper(src, "")
	if err := k.first(ctx); err != nil {
		return fmt.Errorf("vault cluster %s: %w", c.Name(), err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		cancel()
		return fmt.Errorf("vault cluster %s: %w", c.Name(), ErrStopped)
	}
	c.self, c.cancel, c.done = k, cancel, done
	go func() {
		defer close(done)
		k.run(runCtx)
	}()
	return nil
}

// Status is the state of tmplrun's own token on this cluster. Before the
// first login its State is StateIdle.
func (c *Cluster) Status() Status {
	c.mu.Lock()
	k := c.self
	c.mu.Unlock()
	if k == nil {
		return Status{Cluster: c.Name(), State: StateIdle}
	}
	return k.status()
}

// Close stops every task token still running (revoking them, as Stop(ctx,
// true) does), stops keeping tmplrun's own token alive and revokes it when
// tmplrun obtained it by logging in; a token the user supplied (auth
// "token", $VAULT_TOKEN) is never revoked. The cluster cannot be used
// afterwards.
func (c *Cluster) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	tasks := make([]*TaskToken, 0, len(c.tasks))
	for t := range c.tasks {
		tasks = append(tasks, t)
	}
	self, cancel, done := c.self, c.cancel, c.done
	c.mu.Unlock()

	var errs []error
	for _, t := range tasks {
		errs = append(errs, t.Stop(ctx, true))
	}
	if self == nil {
		return errors.Join(errs...)
	}
	cancel()
	<-done
	tok := self.stopped()
	if !c.method.supplied() && !tok.IsZero() {
		err := (tokenOps{client: c.client}).revoke(ctx, tok.secret)
		if err != nil && classify(err) != failHard {
			errs = append(errs, fmt.Errorf("vault cluster %s: %w", c.Name(), err))
		} else {
			c.emitter("").emit(Event{Kind: EventRevoked, Generation: tok.Generation})
		}
	}
	return errors.Join(errs...)
}

// client is a client of this cluster that uses token in the cluster's
// namespace.
func (c *Cluster) client(token string) (*api.Client, error) {
	return newClient(c.cfg, token, c.block.Namespace)
}

// parent is tmplrun's current token, for deriving task tokens.
func (c *Cluster) parent() (*keeper, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.self == nil {
		return nil, errors.New("not logged in")
	}
	return c.self, nil
}

// newKeeper is a keeper of this cluster for task ("" for tmplrun's own
// token).
func (c *Cluster) newKeeper(src source, task string) *keeper {
	k := newKeeper(src, c.opts.Schedule, c.opts.clock, c.opts.rand, c.emitter(task))
	k.contacted = &c.contacted
	return k
}

func (c *Cluster) emitter(task string) emitter {
	return emitter{cluster: c.Name(), task: task, now: c.opts.clock.Now, on: c.opts.OnEvent, log: c.opts.Logger}
}

func (c *Cluster) track(t *TaskToken) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrStopped
	}
	c.tasks[t] = struct{}{}
	return nil
}

func (c *Cluster) forget(t *TaskToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tasks, t)
}

// selfSource obtains tmplrun's own token with the cluster's auth method.
type selfSource struct {
	tokenOps // renew, verify
	cluster  *Cluster
}

func (s *selfSource) obtain(ctx context.Context) (*grant, error) {
	cl, err := s.cluster.client("")
	if err != nil {
		return nil, err
	}
	return s.cluster.method.login(ctx, cl)
}
