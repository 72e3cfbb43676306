// Package runner renders one task's templates from Vault, keeps them
// current and tells the task when they change: Nomad's template manager as
// a library, with consul-template's template language and dependency
// watching underneath.
//
// A Runner is built for one task from its templates (the template
// package's model), its task dir, its environment, the Vault connection
// and token, and three things it calls: a Lifecycle (restart, signal, exec
// a script, kill, is-running), an EventSink and a *slog.Logger. It writes
// every file through the task dir's os.Root, atomically, and skips
// identical content; it decides what to do about changes with a pure
// planner (restart wins; else each distinct signal once, then every script
// at once; splay; changes during a restart kept); a template whose output
// changes without new data (timestamp) is reported, not rewritten, and
// fires nothing until its data changes; it switches tokens in place
// without re-fetching any secret.
//
//	r, err := runner.New(runner.Config{
//		Task: "web", Dir: "/srv/web", Templates: task.Templates,
//		TemplateConfig: cfg.TemplateConfig, Vault: task.Vault,
//		VaultCluster: cluster, Token: token, Env: task.Env,
//		Lifecycle: supervisor, Events: sink, Logger: logger,
//	})
//	if err != nil { … }
//	if err := r.Start(ctx); err != nil { … }
//	defer r.Stop()
//	env, err := r.WaitFirstRender(ctx) // then start the process with env
//	r.TaskStarted()
//	…
//	r.SetToken(newToken)                // when vaultauth derives a new one
//
// Render renders every template once and returns (tmplrun render), with a
// dry-run hook. docs/library.md is the embedding guide and
// docs/change-modes.md the change rules, with examples.
package runner
