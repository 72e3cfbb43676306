package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tmplrun/tmplrun/runner"
	"github.com/tmplrun/tmplrun/template"
)

// Render renders every template of every task once — `tmplrun render` —
// with each task's own token, derived for the occasion (never written to
// its file) and revoked afterwards. A task whose templates wait longer
// than timeout for their data fails, naming what they wait for (a
// first_render_timeout in the file takes precedence). With dryRun set,
// nothing is written anywhere: each rendered file is printed there under a
// header naming its task and destination, in the file's order.
func (a *Agent) Render(ctx context.Context, timeout time.Duration, dryRun io.Writer) error {
	a.opts.noTokenFile = true
	defer a.closeClusters()
	tc := *a.cfg.TemplateConfig
	if tc.FirstRenderTimeout == 0 {
		tc.FirstRenderTimeout = timeout
	}
	outputs := make([]map[string][]byte, len(a.tasks))
	errs := make([]error, len(a.tasks))
	var wg sync.WaitGroup
	for i, t := range a.tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mu sync.Mutex
			var collect func(string, []byte)
			if dryRun != nil {
				outputs[i] = map[string][]byte{}
				collect = func(dest string, b []byte) {
					mu.Lock()
					outputs[i][dest] = b
					mu.Unlock()
				}
			}
			if err := a.renderTask(ctx, t, &tc, collect); err != nil {
				errs[i] = fmt.Errorf("task %s: %w", t.spec.Name, err)
			}
		}()
	}
	wg.Wait()
	if dryRun != nil {
		for i, t := range a.tasks {
			for _, tm := range t.spec.Templates {
				if b, ok := outputs[i][tm.Destination]; ok {
					fmt.Fprintf(dryRun, "==> %s: %s <==\n", t.spec.Name, tm.Destination)
					dryRun.Write(b)
					if len(b) > 0 && b[len(b)-1] != '\n' {
						fmt.Fprintln(dryRun)
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (a *Agent) renderTask(ctx context.Context, t *task, tc *template.TemplateConfig, dryRun func(string, []byte)) error {
	tok, cluster, err := a.taskToken(ctx, t.spec)
	if err != nil {
		return err
	}
	secret := ""
	if tok != nil {
		defer a.revoke(tok)
		secret = tok.Token().Secret()
	}
	return runner.Render(ctx, runner.Config{
		Task:           t.spec.Name,
		Dir:            t.spec.Dir,
		Templates:      t.spec.Templates,
		TemplateConfig: tc,
		Vault:          t.spec.Vault,
		VaultCluster:   cluster,
		Token:          secret,
		Env:            t.env.forTemplates(),
		Events:         runner.EventFunc(a.report.runnerEvent),
		Logger:         a.log,
		DryRun:         dryRun,
	})
}
