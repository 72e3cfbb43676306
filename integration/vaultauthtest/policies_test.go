package vaultauthtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// A task token has exactly the policies the task names, plus default; it
// is written to the task's file (0600) and offered to its environment;
// it is revoked, and its file removed, when the task stops for good.
func TestPolicyTokens(t *testing.T) {
	t.Parallel()
	r := newRig(t, time.Hour)
	cs := r.clusters(t, r.options(t), r.tokenCluster(t))
	ctx := ctxFor(t)

	tests := []struct {
		name     string
		policies []string
		want     []string
	}{
		{"one policy", []string{"web"}, []string{"default", "web"}},
		{"two policies", []string{"web", "db"}, []string{"db", "default", "web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := r.task(strings.ReplaceAll(tt.name, " ", "-"), &template.Vault{Policies: tt.policies})
			tok, err := cs.Task(ctx, task)
			if err != nil {
				t.Fatal(err)
			}
			secret := tok.Token().Secret()
			info, ok := r.v.LookupToken(secret)
			if !ok {
				t.Fatal("the task's token does not exist in Vault")
			}
			if diff := cmp.Diff(tt.want, info.Policies); diff != "" {
				t.Errorf("policies (-want +got):\n%s", diff)
			}
			if info.Path != "auth/token/create/"+TokenRole || !info.Orphan || info.CreationTTL != time.Hour {
				t.Errorf("token created at %q orphan=%v ttl=%v; want the token role's", info.Path, info.Orphan, info.CreationTTL)
			}
			if info.Meta[vaultauth.MetaTask] != task.Name || info.Meta[vaultauth.MetaNode] != "node-1" {
				t.Errorf("metadata %v does not name the task", info.Meta)
			}
			if got, perm := tokenFile(t, task); got != secret || perm != 0o600 {
				t.Errorf("token file holds the token: %v, mode %v; want true, 0600", got == secret, perm)
			}
			if diff := cmp.Diff(map[string]string{"VAULT_TOKEN": secret}, tok.Env()); diff != "" {
				t.Errorf("Env() (-want +got):\n%s", diff)
			}

			if err := tok.Stop(ctx, true); err != nil {
				t.Fatal(err)
			}
			if _, ok := r.v.LookupToken(secret); ok {
				t.Error("the token still exists after Stop(revoke)")
			}
			if _, err := os.Stat(filepath.Join(task.Dir, vaultauth.TokenFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("token file after Stop(revoke): %v, want it removed", err)
			}
			if st := tok.Status(); st.State != vaultauth.StateStopped {
				t.Errorf("state after Stop = %v", st.State)
			}
		})
	}
}

// A policy the token role does not allow stops the task at once with
// Vault's reason; nothing is written.
func TestPolicyNotAllowed(t *testing.T) {
	t.Parallel()
	r := newRig(t, time.Hour)
	cs := r.clusters(t, r.options(t), r.tokenCluster(t))
	task := r.task("admin", &template.Vault{Policies: []string{"tmplrun"}})
	_, err := cs.Task(ctxFor(t), task)
	if err == nil {
		t.Fatal("a token with a policy the role does not allow was created")
	}
	for _, want := range []string{"policies [tmplrun]", "auth/token/create/" + TokenRole, "400"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(task.Dir, vaultauth.TokenFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token file: %v, want none", err)
	}
}

// Stopping a task without revoking (a restart) keeps its token valid;
// closing the clusters revokes what is left, but never tmplrun's own
// token when the user supplied it.
func TestRestartKeepsCloseRevokes(t *testing.T) {
	t.Parallel()
	r := newRig(t, time.Hour)
	block := r.tokenCluster(t)
	own, err := os.ReadFile(block.Auth.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := vaultauth.NewClusters([]*template.VaultCluster{block}, r.options(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	web, err := cs.Task(ctx, r.task("web", &template.Vault{Policies: []string{"web"}}))
	if err != nil {
		t.Fatal(err)
	}
	db, err := cs.Task(ctx, r.task("db", &template.Vault{Policies: []string{"db"}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := web.Stop(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.v.LookupToken(web.Token().Secret()); !ok {
		t.Error("Stop without revoke revoked the token")
	}
	if err := cs.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.v.LookupToken(db.Token().Secret()); ok {
		t.Error("Close left a running task's token alive")
	}
	if _, ok := r.v.LookupToken(string(own)); !ok {
		t.Error("Close revoked the token the user supplied")
	}
	if r.events.count("db", vaultauth.EventRevoked) != 1 {
		t.Errorf("events:\n%s", r.events)
	}
}
