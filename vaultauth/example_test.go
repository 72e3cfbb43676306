package vaultauth_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/tmplrun/tmplrun/template"
	"github.com/tmplrun/tmplrun/vaultauth"
)

// The renewal schedule is a pure function: given what Vault said about a
// token and the time, it says what to do and when.
func ExampleSchedule_Next() {
	granted := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	lease := vaultauth.Lease{TTL: time.Hour, Base: time.Hour, Renewable: true, Granted: granted}
	s := vaultauth.DefaultSchedule

	p := s.Next(vaultauth.TokenState{Lease: lease}, granted, 0.5)
	fmt.Println(p.Step, "at", p.At.Sub(granted))

	// Vault unreachable for the third time: keep the token, retry soon.
	now := granted.Add(36 * time.Minute)
	p = s.Next(vaultauth.TokenState{Lease: lease, Failures: 3}, now, 0)
	fmt.Println(p.Step, "in", p.At.Sub(now))

	// Vault refused the token: replace it at once.
	p = s.Next(vaultauth.TokenState{Lease: lease, Dead: true}, now, 0)
	fmt.Println(p.Step, "in", p.At.Sub(now))

	// A token that is not renewable is replaced before it expires.
	lease.Renewable = false
	p = s.Next(vaultauth.TokenState{Lease: lease}, granted, 0)
	fmt.Println(p.Step, "at", p.At.Sub(granted))
	// Output:
	// renew at 36m0s
	// renew in 4s
	// replace in 0s
	// replace at 48m0s
}

func ExampleBackoff_Delay() {
	b := vaultauth.DefaultSchedule.Reauth
	for _, attempt := range []int{1, 2, 3, 8, 9, 20} {
		fmt.Println(attempt, b.Delay(attempt, 0))
	}
	// Output:
	// 1 1s
	// 2 2s
	// 3 4s
	// 8 2m8s
	// 9 4m16s
	// 20 5m0s
}

// A Token never prints its secret.
func ExampleToken() {
	var tok vaultauth.Token // as returned by TaskToken.Token
	fmt.Println(tok)
	fmt.Printf("%+v\n", vaultauth.Event{Kind: vaultauth.EventRenewed, Task: "web", TTL: time.Hour})
	// Output:
	// no vault token
	// vault token renewed (ttl 1h0m0s)
}

// How a program gives a task its token and follows replacements. It needs
// a Vault, so it is compiled but not run here; the integration tests run
// the same steps against a real Vault.
func ExampleClusters_Task() {
	ctx := context.Background()
	cfg := &template.Config{
		Vaults: []*template.VaultCluster{{
			Address:        "http://127.0.0.1:8200",
			CreateFromRole: "tmplrun-task",
			Auth:           &template.Auth{Method: template.AuthAppRole, RoleIDFile: "/etc/tmplrun/role_id", SecretIDFile: "/etc/tmplrun/secret_id"},
		}},
		Tasks: []*template.Task{{Name: "web", Dir: "/srv/web", Vault: &template.Vault{Policies: []string{"web"}}}},
	}
	cfg.Canonicalize()

	clusters, err := vaultauth.NewClusters(cfg.Vaults, vaultauth.Options{
		Logger:  slog.Default(),
		OnEvent: func(e vaultauth.Event) { fmt.Printf("%s: %s\n", e.Task, e) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer clusters.Close(ctx)

	tok, err := clusters.Task(ctx, cfg.Tasks[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer tok.Stop(ctx, true) // the task stopped for good: revoke

	news, cancel := tok.Subscribe(tok.Token().Generation)
	defer cancel()
	go func() {
		for t := range news {
			// Switch the template runner to t.Secret() and apply the
			// task's vault change_mode.
			_ = t
		}
	}()
	fmt.Println(tok.Status().State, tok.Env() != nil)
}
