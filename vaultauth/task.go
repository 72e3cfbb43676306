package vaultauth

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/vault/api"

	"github.com/tmplrun/tmplrun/sandbox"
	"github.com/tmplrun/tmplrun/template"
)

// TokenFile is where a task's token is written, relative to its task dir
// (Nomad's ${NOMAD_SECRETS_DIR}/vault_token), mode 0600.
const TokenFile = template.TokenFile

// TaskToken is one task's own Vault token, kept alive: renewed before it
// expires, replaced when Vault refuses it, written to the task's token
// file, offered to the task's environment, and revoked when the task stops
// for good. All methods are safe for concurrent use.
type TaskToken struct {
	cluster *Cluster
	name    string
	vault   *template.Vault
	ns      string
	dir     *sandbox.Dir // nil with disable_file
	k       *keeper
	ops     tokenOps
	cancel  context.CancelFunc
	done    chan struct{}

	mu      sync.Mutex
	subs    map[chan Token]*int // channel → last generation it was given
	stopped bool
}

// Task derives the first token for task t — a child token with exactly
// its policies, or a login with its workload identity to its role —
// writes it to the token file (unless disable_file), and starts keeping it
// alive. It logs tmplrun in first when the task names policies. Vault being
// unreachable is retried with backoff until ctx ends; a refusal (a policy
// the token role does not allow, an unknown role, claims the role does not
// bind) is returned at once with Vault's reason.
//
// t.Vault.Cluster must name this cluster (or be empty).
func (c *Cluster) Task(ctx context.Context, t *template.Task) (*TaskToken, error) {
	tt, err := c.task(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return tt, nil
}

func (c *Cluster) task(ctx context.Context, t *template.Task) (*TaskToken, error) {
	v := t.Vault
	if v == nil {
		return nil, errors.New("the task has no vault block")
	}
	if v.Cluster != "" && v.Cluster != c.Name() {
		return nil, fmt.Errorf("the task names vault cluster %q, not %q", v.Cluster, c.Name())
	}
	ns := v.Namespace
	if ns == "" {
		ns = c.block.Namespace
	}
	tt := c.newTaskToken(t.Name, v, ns)

	var src source
	switch {
	case len(v.Policies) > 0 && v.Role != "":
		return nil, errors.New("the vault block sets both policies and role; set one")
	case len(v.Policies) > 0:
		if err := c.Login(ctx); err != nil {
			return nil, err
		}
		src = &policySource{tokenOps: tt.ops, cluster: c, task: t.Name, policies: v.Policies, ns: ns}
	case v.Role != "":
		if c.signer == nil {
			return nil, ErrNoIdentity
		}
		src = &roleSource{tokenOps: tt.ops, cluster: c, task: t.Name, role: v.Role, ns: ns}
	default:
		return nil, errors.New("the vault block needs policies or role")
	}

	dir := ""
	if !v.DisableFile {
		dir = t.Dir
	}
	return c.start(ctx, tt, src, dir)
}

func (c *Cluster) newTaskToken(name string, v *template.Vault, ns string) *TaskToken {
	return &TaskToken{
		cluster: c,
		name:    name,
		vault:   v,
		ns:      ns,
		subs:    map[chan Token]*int{},
		ops:     tokenOps{client: func(token string) (*api.Client, error) { return newClient(c.cfg, token, ns) }},
	}
}

// start opens the task dir (unless dir is ""), obtains the first token
// from src, writes it, and starts the loop.
func (c *Cluster) start(ctx context.Context, tt *TaskToken, src source, dir string) (*TaskToken, error) {
	if dir != "" {
		d, err := sandbox.Create(dir)
		if err != nil {
			return nil, err
		}
		tt.dir = d
	}
	k := c.newKeeper(src, tt.name)
	k.allowExpiration = tt.vault.AllowTokenExpiration
	k.replaced = tt.replaced
	k.renewed = func(tok Token) { tt.writeFile(tok) }
	tt.k = k

	if err := k.first(ctx); err != nil {
		tt.closeDir()
		return nil, err
	}
	if err := tt.writeFile(k.token()); err != nil {
		_ = tt.ops.revoke(context.WithoutCancel(ctx), k.token().secret)
		tt.closeDir()
		return nil, err
	}
	if err := c.track(tt); err != nil {
		_ = tt.ops.revoke(context.WithoutCancel(ctx), k.token().secret)
		tt.closeDir()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	tt.cancel, tt.done = cancel, make(chan struct{})
	go func() {
		defer close(tt.done)
		k.run(runCtx)
	}()
	return tt, nil
}

// Name is the task's name.
func (t *TaskToken) Name() string { return t.name }

// Namespace is the Vault namespace the token lives in ("" for the root).
func (t *TaskToken) Namespace() string { return t.ns }

// Token is the current token.
func (t *TaskToken) Token() Token { return t.k.token() }

// Env is what the task's environment gets from its vault block: VAULT_TOKEN
// (the current token) and VAULT_NAMESPACE (when a namespace applies), or
// nil when the block says env = false. Call it again when (re)starting
// the task: the token may have been replaced.
func (t *TaskToken) Env() map[string]string {
	if !t.vault.EnvEnabled() {
		return nil
	}
	env := map[string]string{EnvToken: t.Token().Secret()}
	if t.ns != "" {
		env[EnvNamespace] = t.ns
	}
	return env
}

// Suspect tells the keeper that Vault refused the token (a 403 on some
// request): it verifies the token at once — at most once per the
// schedule's minimum retry — and, when Vault confirms it is dead (revoked
// from outside), derives a new one and delivers it to subscribers, instead
// of waiting for the next renewal. A 403 that only means a policy denies
// a path costs one lookup. Never blocks.
func (t *TaskToken) Suspect() { t.k.suspect() }

// Status is a snapshot of the token's state, for the status page.
func (t *TaskToken) Status() Status { return t.k.status() }

// Subscribe returns a channel that receives every new token of a
// generation greater than after — pass Token().Generation to hear only of
// tokens that replace the one you hold. Renewals are not delivered (the
// token does not change); neither are failures.
//
// The channel has a buffer of one and is never blocked on: when a new
// token arrives before the last one was received, the newer one takes its
// place (a subscriber needs the current token, not each one in between).
// The token file is written before a token is delivered. The channel is
// closed by Stop or by calling cancel, whichever comes first; cancel may
// be called more than once.
func (t *TaskToken) Subscribe(after int) (tokens <-chan Token, cancel func()) {
	ch := make(chan Token, 1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		close(ch)
		return ch, func() {}
	}
	last := after
	if tok := t.k.token(); tok.Generation > after {
		ch <- tok
		last = tok.Generation
	}
	t.subs[ch] = &last
	return ch, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if _, ok := t.subs[ch]; ok {
			delete(t.subs, ch)
			close(ch)
		}
	}
}

// replaced runs on the keeper's goroutine when a new token replaced the
// old one: write the file, then tell the subscribers.
func (t *TaskToken) replaced(tok Token) {
	_ = t.writeFile(tok)
	t.mu.Lock()
	defer t.mu.Unlock()
	for ch, last := range t.subs {
		if tok.Generation <= *last {
			continue
		}
		select {
		case <-ch: // drop the older token nobody took yet
		default:
		}
		ch <- tok
		*last = tok.Generation
	}
}

// writeFile writes the token file (atomically, 0600) unless disable_file;
// it is a no-op when the file already holds tok. A failure is an event.
func (t *TaskToken) writeFile(tok Token) error {
	if t.dir == nil {
		return nil
	}
	_, err := t.dir.WriteFile(TokenFile, []byte(tok.Secret()), sandbox.Perm(0o600))
	if err != nil {
		err = fmt.Errorf("write %s: %w", TokenFile, err)
		t.k.events.emit(Event{Kind: EventFileError, Generation: tok.Generation, Err: err})
	}
	return err
}

// Stop stops keeping the token alive and closes the subscription
// channels. With revoke (the task stopped for good) the token is revoked
// and the token file removed; without it (the task restarts) the token is
// left as is and nothing else changes. Stop is idempotent; the handle
// cannot be restarted.
func (t *TaskToken) Stop(ctx context.Context, revoke bool) error {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return nil
	}
	t.stopped = true
	t.mu.Unlock()

	t.cancel()
	<-t.done
	tok := t.k.stopped()

	t.mu.Lock()
	for ch := range t.subs {
		close(ch)
		delete(t.subs, ch)
	}
	t.mu.Unlock()
	defer t.cluster.forget(t)
	defer t.closeDir()

	if !revoke {
		return nil
	}
	var errs []error
	if err := t.ops.revoke(ctx, tok.Secret()); err != nil && classify(err) != failHard {
		// A refusal means the token is already revoked or expired.
		errs = append(errs, fmt.Errorf("task %s: %w", t.name, err))
	} else {
		t.k.events.emit(Event{Kind: EventRevoked, Generation: tok.Generation})
	}
	if t.dir != nil {
		if err := t.dir.Remove(TokenFile); err != nil {
			errs = append(errs, fmt.Errorf("task %s: remove %s: %w", t.name, TokenFile, err))
		}
	}
	return errors.Join(errs...)
}

func (t *TaskToken) closeDir() {
	if t.dir != nil {
		t.dir.Close()
	}
}
