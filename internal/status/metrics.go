package status

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the counters the CLI increments as events happen. Gauges
// (missing dependencies, token TTL, Vault reachability) and the counts of
// Vault requests the runners made are read from the snapshot at scrape
// time.
type Metrics struct {
	Renders       *prometheus.CounterVec // task, template
	RenderErrors  *prometheus.CounterVec // task, template
	ChangeActions *prometheus.CounterVec // task, mode (restart, signal, script, noop)
	TokenErrors   *prometheus.CounterVec // task: renewals and derivations that failed
	Restarts      *prometheus.CounterVec // task, reason (change, exit)
	TokenRenewals *prometheus.CounterVec // task
	TokensIssued  *prometheus.CounterVec // task

	Registry *prometheus.Registry
}

// NewMetrics registers tmplrun's metrics (and Go runtime and process
// metrics) in a new registry; snapshot feeds the gauges at scrape time.
func NewMetrics(snapshot func() Snapshot) *Metrics {
	reg := prometheus.NewRegistry()
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tmplrun", Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	m := &Metrics{
		Renders:       counter("renders_total", "Templates rendered with new content.", "task", "template"),
		RenderErrors:  counter("render_errors_total", "Template renders that failed.", "task", "template"),
		ChangeActions: counter("change_actions_total", "Change actions taken, by change mode.", "task", "mode"),
		TokenErrors:   counter("token_errors_total", "Failed renewals or derivations of a task's Vault token (tmplrun's own: task=\"tmplrun\").", "task"),
		Restarts:      counter("process_restarts_total", "Task process restarts, by reason.", "task", "reason"),
		TokenRenewals: counter("token_renewals_total", "Task Vault tokens renewed.", "task"),
		TokensIssued:  counter("tokens_issued_total", "New task Vault tokens (first and replacements).", "task"),
		Registry:      reg,
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(&gauges{snapshot: snapshot})
	return m
}

var (
	missingDesc = prometheus.NewDesc("tmplrun_missing_dependencies",
		"Dependencies a template is waiting for.", []string{"task", "template"}, nil)
	ttlDesc = prometheus.NewDesc("tmplrun_token_ttl_seconds",
		"Remaining TTL of a task's Vault token (+Inf: it never expires).", []string{"task"}, nil)
	ownTTLDesc = prometheus.NewDesc("tmplrun_own_token_ttl_seconds",
		"Remaining TTL of tmplrun's own Vault token on a cluster (+Inf: it never expires), once logged in.", []string{"cluster"}, nil)
	reachableDesc = prometheus.NewDesc("tmplrun_vault_reachable",
		"1 when the task's last Vault request reached Vault, else 0.", []string{"task"}, nil)
	requestsDesc = prometheus.NewDesc("tmplrun_vault_requests_total",
		"HTTP requests a task's templates made to Vault.", []string{"task"}, nil)
	requestErrorsDesc = prometheus.NewDesc("tmplrun_vault_request_errors_total",
		"HTTP requests a task's templates made to Vault that failed (network error or status >= 400).", []string{"task"}, nil)
	upDesc = prometheus.NewDesc("tmplrun_task_running",
		"1 when the task's process is running (or, without a command, its templates are rendered).", []string{"task"}, nil)
)

// gauges reads the snapshot at scrape time.
type gauges struct{ snapshot func() Snapshot }

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- missingDesc
	ch <- ttlDesc
	ch <- ownTTLDesc
	ch <- reachableDesc
	ch <- upDesc
	ch <- requestsDesc
	ch <- requestErrorsDesc
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	snap := g.snapshot()
	for _, c := range snap.Clusters {
		if c.Generation > 0 {
			ch <- prometheus.MustNewConstMetric(ownTTLDesc, prometheus.GaugeValue, ttlSeconds(c), c.Cluster)
		}
	}
	for _, t := range snap.Tasks {
		for _, tm := range t.Templates {
			ch <- prometheus.MustNewConstMetric(missingDesc, prometheus.GaugeValue, float64(len(tm.Missing)), t.Name, tm.Destination)
		}
		if t.Token != nil {
			ch <- prometheus.MustNewConstMetric(ttlDesc, prometheus.GaugeValue, ttlSeconds(*t.Token), t.Name)
		}
		ch <- prometheus.MustNewConstMetric(reachableDesc, prometheus.GaugeValue, boolf(t.Vault.Reachable), t.Name)
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.CounterValue, float64(t.Vault.Requests), t.Name)
		ch <- prometheus.MustNewConstMetric(requestErrorsDesc, prometheus.CounterValue, float64(t.Vault.Errors), t.Name)
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, boolf(t.State == "running" || t.State == "rendered"), t.Name)
	}
}

// ttlSeconds is a token's TTL gauge: +Inf for a token that never
// expires, which must not read like an expired one (0).
func ttlSeconds(t Token) float64 {
	if t.NeverExpires {
		return math.Inf(1)
	}
	return t.TTLSeconds
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
