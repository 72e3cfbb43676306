package status

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestServer(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	snap := Snapshot{Version: "dev", Time: now,
		Clusters: []Token{
			{Cluster: "default", State: "healthy", Policies: []string{"root"}, NeverExpires: true, Generation: 1, Obtained: TimePtr(now)},
			{Cluster: "eu", State: "healthy", Policies: []string{"tmplrun"}, TTLSeconds: 600, Generation: 2,
				Renewable: true, Renewals: 4, Next: "renew", NextAt: TimePtr(now.Add(time.Minute))},
			{Cluster: "us", State: "idle", Policies: []string{}},
		},
		Tasks: []Task{{
			Name: "web", State: "running", PID: 42,
			Token: &Token{State: "healthy", Policies: []string{"default", "web"}, TTLSeconds: 3600, Renewable: true, Generation: 1},
			Vault: Vault{Reachable: true, Requests: 3},
			Templates: []Template{{Destination: "local/a", LastRender: TimePtr(now), Renders: 2, Missing: []string{}},
				{Destination: "local/b", Missing: []string{"vault.read(secret/data/b)"}}},
		}, {
			Name: "db", State: "running",
			Token: &Token{State: "healthy", Policies: []string{"db"}, NeverExpires: true, Generation: 1},
			Vault: Vault{Reachable: true}, Templates: []Template{},
		}}}
	m := NewMetrics(func() Snapshot { return snap })
	m.Renders.WithLabelValues("web", "local/a").Add(2)
	m.ChangeActions.WithLabelValues("web", "restart").Inc()

	s, err := Start("127.0.0.1:0", Handler(func() Snapshot { return snap }, m), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	base := "http://" + s.Addr().String()

	resp, err := http.Get(base + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	var got Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if diff := cmp.Diff(snap, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`tmplrun_renders_total{task="web",template="local/a"} 2`,
		`tmplrun_change_actions_total{mode="restart",task="web"} 1`,
		`tmplrun_missing_dependencies{task="web",template="local/b"} 1`,
		`tmplrun_token_ttl_seconds{task="web"} 3600`,
		`tmplrun_token_ttl_seconds{task="db"} +Inf`,
		`tmplrun_own_token_ttl_seconds{cluster="default"} +Inf`,
		`tmplrun_own_token_ttl_seconds{cluster="eu"} 600`,
		`tmplrun_vault_reachable{task="web"} 1`,
		`tmplrun_task_running{task="web"} 1`,
		`tmplrun_vault_requests_total{task="web"} 3`,
		`tmplrun_vault_request_errors_total{task="web"} 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	if strings.Contains(string(body), `cluster="us"`) {
		t.Error("a cluster tmplrun has not logged in to has a TTL")
	}

	resp, err = http.Post(base+"/v1/status", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /v1/status = %d, want 405", resp.StatusCode)
	}
}
