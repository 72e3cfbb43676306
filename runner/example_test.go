package runner_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
)

// process is an embedder's task: here it only prints what it is asked.
type process struct{ running bool }

func (p *process) Restart(_ context.Context, reason string) error {
	fmt.Println("restart:", reason)
	return nil
}
func (p *process) Signal(_ context.Context, sig string) error { fmt.Println("signal", sig); return nil }
func (p *process) Exec(_ context.Context, s *template.ChangeScript) (int, error) {
	fmt.Println("exec", s.Command)
	return 0, nil
}
func (p *process) Kill(context.Context, string) error { return nil }
func (p *process) IsRunning() bool                    { return p.running }

// Example embeds a runner for one task: two templates, one of them an env
// template, rendered from the task's environment (a real task would read
// Vault through secret "…" with a VaultCluster and a Token).
func Example() {
	dir, _ := os.MkdirTemp("", "tmplrun-example")
	defer os.RemoveAll(dir)

	conf := template.NewTemplate()
	conf.Destination = "local/app.conf"
	conf.Data = "listen = {{ env \"PORT\" }}\n"
	conf.ChangeMode = template.ChangeModeSignal

	env := template.NewTemplate()
	env.Destination = "secrets/app.env"
	env.Data = "APP_MODE={{ env \"MODE\" }}\nexport GREETING=\"hello world\"\n"
	env.Env = true

	cfg := &template.Config{Tasks: []*template.Task{{Name: "web", Dir: dir, Templates: []*template.Template{conf, env}}}}
	cfg.Canonicalize()

	proc := &process{}
	r, err := runner.New(runner.Config{
		Task:           "web",
		Dir:            dir,
		Templates:      cfg.Tasks[0].Templates,
		TemplateConfig: cfg.TemplateConfig,
		Env:            map[string]string{"PORT": "8080", "MODE": "prod"},
		Lifecycle:      proc,
		Events:         runner.EventFunc(func(e runner.Event) { fmt.Printf("event %s: %s\n", e.Kind, e.Message) }),
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer r.Stop()

	vars, err := r.WaitFirstRender(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s=%s\n", k, vars[k])
	}
	b, _ := os.ReadFile(filepath.Join(dir, "local/app.conf"))
	fmt.Print(string(b))
	for _, t := range r.Status().Templates {
		fmt.Println(t.Destination, "renders:", t.Renders, "missing:", len(t.Missing))
	}
	// Output:
	// event rendered: template local/app.conf rendered
	// event rendered: template secrets/app.env rendered
	// event first-render: all templates rendered
	// APP_MODE=prod
	// GREETING=hello world
	// listen = 8080
	// local/app.conf renders: 1 missing: 0
	// secrets/app.env renders: 1 missing: 0
}

// ExampleRender renders every template once without writing anything: the
// dry run of `tmplrun render -dry-run`.
func ExampleRender() {
	dir, _ := os.MkdirTemp("", "tmplrun-example")
	defer os.RemoveAll(dir)
	t := template.NewTemplate()
	t.Destination = "local/hello.txt"
	t.Data = "hello {{ env \"WHO\" }}\n"
	t.Canonicalize()
	err := runner.Render(context.Background(), runner.Config{
		Task:      "hello",
		Dir:       dir,
		Templates: []*template.Template{t},
		Env:       map[string]string{"WHO": "world"},
		Logger:    slog.New(slog.DiscardHandler),
		DryRun: func(dest string, contents []byte) {
			fmt.Printf("==> %s\n%s", dest, contents)
		},
	})
	fmt.Println("err:", err)
	// Output:
	// ==> local/hello.txt
	// hello world
	// err: <nil>
}
