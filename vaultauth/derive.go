package vaultauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/vault/api"
)

// Metadata keys tmplrun sets on child tokens it creates for tasks.
const (
	MetaTask = "tmplrun_task"
	MetaNode = "tmplrun_node"
)

// policySource derives a task token as a child of tmplrun's own token with
// exactly the task's policies, through the cluster's create_from_role token
// role (auth/token/create/<role>), or auth/token/create without one.
type policySource struct {
	tokenOps // renew, verify
	cluster  *Cluster
	task     string
	policies []string
	ns       string
}

func (s *policySource) obtain(ctx context.Context) (*grant, error) {
	self, err := s.cluster.parent()
	if err != nil {
		return nil, err
	}
	c, err := newClient(s.cluster.cfg, self.token().secret, s.ns)
	if err != nil {
		return nil, err
	}
	req := &api.TokenCreateRequest{
		Policies:    s.policies,
		DisplayName: "tmplrun-" + s.task,
		Metadata:    map[string]string{MetaTask: s.task, MetaNode: s.cluster.opts.Node},
	}
	role := s.cluster.block.CreateFromRole
	op := fmt.Sprintf("create a token with policies [%s] at auth/token/create", strings.Join(s.policies, ", "))
	var sec *api.Secret
	if role != "" {
		op += "/" + role
		sec, err = c.Auth().Token().CreateWithRoleWithContext(ctx, req, role)
	} else {
		sec, err = c.Auth().Token().CreateWithContext(ctx, req)
	}
	if err != nil {
		err = wrapVault(op, err)
		var re *api.ResponseError
		if errors.As(err, &re) && re.StatusCode == http.StatusForbidden && s.parentRefused(ctx, self) {
			// tmplrun's own token died: it logs in again, and this
			// derivation is retried with backoff meanwhile.
			self.suspect()
			return nil, &parentRefusedError{err}
		}
		return nil, err
	}
	g, err := grantFromAuth(sec)
	return g, wrapVault(op, err)
}

// roleSource derives a task token by logging in to the cluster's JWT auth
// method (the identity block's mount) with a workload identity signed for
// the task. It does not need tmplrun's own token.
type roleSource struct {
	tokenOps // renew, verify
	cluster  *Cluster
	task     string
	role     string
	ns       string
}

func (s *roleSource) obtain(ctx context.Context) (*grant, error) {
	jwt, err := s.cluster.signer.Sign(s.task, s.cluster.opts.clock.Now())
	if err != nil {
		return nil, err
	}
	c, err := newClient(s.cluster.cfg, "", s.ns)
	if err != nil {
		return nil, err
	}
	mount := strings.Trim(s.cluster.block.Identity.Mount, "/")
	if mount == "" {
		mount = "jwt"
	}
	op := fmt.Sprintf("login with the task's workload identity to jwt role %q at auth/%s", s.role, mount)
	return writeLogin(ctx, c, op, mount, map[string]any{"role": s.role, "jwt": jwt})
}

// parentRefused reports whether Vault refuses tmplrun's own token, after a
// derivation was denied: a denied derivation is either a permission
// problem (tmplrun's policy, the token role) or a dead parent token.
func (s *policySource) parentRefused(ctx context.Context, self *keeper) bool {
	err := (tokenOps{client: s.cluster.client}).verify(ctx, self.token().secret)
	return err != nil && classify(err) == failHard
}

// parentRefusedError: a task token could not be derived because Vault
// refused tmplrun's own token. It is a soft failure: tmplrun logs in again
// and the derivation is retried.
type parentRefusedError struct{ err error }

func (e *parentRefusedError) Error() string {
	return "tmplrun's own token was refused, logging in again: " + e.err.Error()
}

func (e *parentRefusedError) Unwrap() error { return e.err }
