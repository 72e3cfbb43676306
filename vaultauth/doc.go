// Package vaultauth is tmplrun's Vault authentication and token
// lifecycle: it logs tmplrun in to each Vault cluster with the agent vault
// block's auth method (token, approle, jwt, kubernetes, cert), gives every
// task a token of its own that can do only what the task needs, and keeps
// all of those tokens alive.
//
// A task's token is either a child token with exactly the task's policies
// (created through the cluster's create_from_role token role), or a login
// to Vault's JWT auth method with a workload identity tmplrun signs for the
// task (Signer), so that Vault binds roles to tasks by claim. Each token is
// renewed before it expires, with jitter; when Vault refuses it (revoked,
// expired, permission denied) a new one is derived at once, then with
// capped exponential backoff; when Vault is unreachable the token is kept
// and renewal retried. Only a new token is delivered to subscribers — a
// renewal or a failure never is — and the token file
// (<task dir>/secrets/vault_token, 0600) is rewritten before delivery.
// Schedule holds the timing rules as a pure function.
//
// Minimal use:
//
//	clusters, err := vaultauth.NewClusters(cfg.Vaults, vaultauth.Options{Logger: log})
//	if err != nil { … }
//	defer clusters.Close(ctx)               // revokes what is left
//	tok, err := clusters.Task(ctx, task)    // first token, written to the file
//	if err != nil { … }
//	env := tok.Env()                        // VAULT_TOKEN for the process
//	news, cancel := tok.Subscribe(tok.Token().Generation)
//	defer cancel()
//	go func() {
//		for t := range news { runner.SetToken(t.Secret()) } // fires change_mode
//	}()
//	…
//	tok.Stop(ctx, true)                     // the task stopped for good: revoke
//
// Nothing here logs or reports a token, a secret_id or a JWT: Token
// prints as "vault token #N", and events and statuses carry none.
package vaultauth
