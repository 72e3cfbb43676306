package runner

import "context"

// Render renders every template of cfg once and returns: the job of
// `tmplrun render`. It waits for each template's data (bounded by
// first_render_timeout when set, and by ctx), never calls the lifecycle,
// and returns the failures of the templates that could not render, each
// named by destination. With cfg.DryRun set nothing is written: each
// rendered template goes to DryRun instead.
func Render(ctx context.Context, cfg Config) error {
	r, err := newRunner(cfg, true)
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		r.Stop()
		return err
	}
	<-r.Done()
	return r.Err()
}
