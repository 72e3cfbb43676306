package template

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A Nomad jobspec (job → group → task) is read for what tmplrun can use:
// template and vault blocks at job, group and task level (the nearest
// wins), a raw_exec or exec task's config { command args }, the task's env,
// kill_signal and kill_timeout. Every other Nomad block and attribute is
// ignored without error; template and vault blocks are checked as strictly
// as Nomad checks them.
//
// A task is named "<group>/<task>" and its directory is
// <file's dir>/<job>/<group>/<task>.

// inherited is what a job or group passes down to its tasks.
type inherited struct {
	vault     *Vault
	templates []*Template
}

func (p *parser) decodeJobspec(body *hclsyntax.Body, cfg *Config) {
	for name, attr := range body.Attributes {
		p.errorf(attr.NameRange.Ptr(), "unknown argument %q at the top level of a jobspec", name)
	}
	var jobs []*hclsyntax.Block
	for _, blk := range body.Blocks {
		switch blk.Type {
		case "job":
			jobs = append(jobs, blk)
		case "variable", "variables", "locals":
		case "task", "vault", "template_config":
			p.errorf(blk.TypeRange.Ptr(), "a %s block cannot sit beside a job block: a file is either a tmplrun config or a Nomad jobspec", blk.Type)
		default:
			p.unknown(blk.TypeRange, "", "block", blk.Type, []string{"job", "variable", "locals"}, false)
		}
	}
	if len(jobs) > 1 {
		p.errorf(jobs[1].DefRange().Ptr(), "a jobspec holds one job block; found %d", len(jobs))
	}
	job := jobs[0]
	if len(job.Labels) != 1 {
		p.errorf(job.DefRange().Ptr(), "a job block needs one label, its name: job \"web\" { … }")
		return
	}
	jobName := job.Labels[0]
	jobCtx := "job " + strconv.Quote(jobName)
	top := p.inheritable(job.Body, jobCtx, inherited{}, nomadJobFields)
	for _, grp := range blocksOf(job.Body, "group") {
		if len(grp.Labels) != 1 {
			p.errorf(grp.DefRange().Ptr(), "%s: a group block needs one label, its name", jobCtx)
			continue
		}
		grpCtx := jobCtx + ", group " + strconv.Quote(grp.Labels[0])
		fromGroup := p.inheritable(grp.Body, grpCtx, top, nomadGroupFields)
		for _, tb := range blocksOf(grp.Body, "task") {
			if len(tb.Labels) != 1 {
				p.errorf(tb.DefRange().Ptr(), "%s: a task block needs one label, its name", grpCtx)
				continue
			}
			task := p.jobspecTask(tb, grp.Labels[0], fromGroup)
			task.Dir = filepath.Join(jobName, grp.Labels[0], tb.Labels[0])
			cfg.Tasks = append(cfg.Tasks, task)
		}
	}
}

// inheritable decodes the template and vault blocks of a job or group and
// merges them over what its parent passed down.
func (p *parser) inheritable(body *hclsyntax.Body, ctxName string, parent inherited, nomad []string) inherited {
	holder := &struct {
		Vault     *Vault      `hcl:"vault,block"`
		Templates []*Template `hcl:"template,block"`
	}{}
	p.decodeBody(body, reflect.ValueOf(holder), ctxName, blockSpec{nomad: nomad})
	out := inherited{vault: parent.vault, templates: parent.templates}
	if holder.Vault != nil {
		out.vault = holder.Vault
	}
	out.templates = mergeTemplates(parent.templates, holder.Templates)
	return out
}

// mergeTemplates returns parent's templates with the child's added; a
// child template with the same destination replaces its parent's.
func mergeTemplates(parent, child []*Template) []*Template {
	if len(child) == 0 {
		return parent
	}
	mine := map[string]bool{}
	for _, t := range child {
		mine[t.Destination] = true
	}
	var out []*Template
	for _, t := range parent {
		if !mine[t.Destination] {
			out = append(out, t)
		}
	}
	return append(out, child...)
}

// jobspecTask builds a Task from a Nomad task block.
func (p *parser) jobspecTask(tb *hclsyntax.Block, group string, up inherited) *Task {
	name := group + "/" + tb.Labels[0]
	ctxName := "task " + strconv.Quote(name)
	task := NewTask(name)
	holder := &struct {
		Vault     *Vault      `hcl:"vault,block"`
		Templates []*Template `hcl:"template,block"`
	}{}
	p.decodeBody(tb.Body, reflect.ValueOf(holder), ctxName, blockSpec{nomad: nomadTaskFields})
	task.Pos = Pos{Block: tb.DefRange(), Attrs: map[string]hcl.Range{}, failed: map[string]bool{}}
	if attr, ok := tb.Body.Attributes["kill_signal"]; ok {
		task.Pos.failed["kill_signal"] = !p.decodeAttr(attr, reflect.ValueOf(&task.KillSignal).Elem(), ctxName)
		task.Pos.Attrs["kill_signal"] = attr.SrcRange
	}
	if attr, ok := tb.Body.Attributes["kill_timeout"]; ok {
		task.Pos.failed["kill_timeout"] = !p.decodeAttr(attr, reflect.ValueOf(&task.KillTimeout).Elem(), ctxName)
		task.Pos.Attrs["kill_timeout"] = attr.SrcRange
	}
	task.Vault = up.vault
	if holder.Vault != nil {
		task.Vault = holder.Vault
	}
	// Each task gets its own copies: a job-level template is rendered
	// into every task's dir, and canonicalizing one must not change the
	// others.
	for _, t := range mergeTemplates(up.templates, holder.Templates) {
		c := *t
		task.Templates = append(task.Templates, &c)
	}
	if task.Vault != nil {
		v := *task.Vault
		task.Vault = &v
	}
	p.jobspecEnv(tb.Body, task, ctxName)
	p.jobspecCommand(tb.Body, task, ctxName)
	return task
}

// jobspecEnv reads a task's env, written as a block (env { K = "v" }) or
// an attribute (env = { K = "v" }).
func (p *parser) jobspecEnv(body *hclsyntax.Body, task *Task, ctxName string) {
	if attr, ok := body.Attributes["env"]; ok {
		p.decodeAttr(attr, reflect.ValueOf(&task.Env).Elem(), ctxName)
		task.Pos.Attrs["env"] = attr.SrcRange
	}
	for _, blk := range blocksOf(body, "env") {
		if task.Env == nil {
			task.Env = map[string]string{}
		}
		for _, attr := range sortedAttrs(blk.Body) {
			var s string
			p.decodeAttr(attr, reflect.ValueOf(&s).Elem(), ctxName+", env")
			task.Env[attr.Name] = s
		}
		task.Pos.Attrs["env"] = blk.DefRange()
	}
}

// jobspecCommand takes a raw_exec or exec task's config { command args };
// tasks of other drivers only render.
func (p *parser) jobspecCommand(body *hclsyntax.Body, task *Task, ctxName string) {
	driver := ""
	if attr, ok := body.Attributes["driver"]; ok {
		v, diags := p.eval(attr.Expr)
		p.diags = append(p.diags, diags...)
		var ok bool
		if driver, ok = asString(v); !ok && !diags.HasErrors() {
			p.errorf(attr.Expr.Range().Ptr(), "%s: driver must be a string", ctxName)
		}
	}
	configs := blocksOf(body, "config")
	if driver != "raw_exec" && driver != "exec" {
		if len(configs) > 0 && driver != "" {
			p.warnf(body.Attributes["driver"].SrcRange.Ptr(), "%s: driver %q: tmplrun renders this task's templates but does not run it (only raw_exec and exec tasks run)", ctxName, driver)
		}
		return
	}
	if len(configs) == 0 {
		p.errorf(body.SrcRange.Ptr(), "%s: a %s task needs config { command = … }", ctxName, driver)
		return
	}
	cb := configs[0].Body
	attr, ok := cb.Attributes["command"]
	if !ok {
		p.errorf(configs[0].DefRange().Ptr(), "%s: config of a %s task needs command", ctxName, driver)
		return
	}
	p.decodeAttr(attr, reflect.ValueOf(&task.Command).Elem(), ctxName+", config")
	task.Pos.Attrs["command"] = attr.SrcRange
	if attr, ok := cb.Attributes["args"]; ok {
		p.decodeAttr(attr, reflect.ValueOf(&task.Args).Elem(), ctxName+", config")
		task.Pos.Attrs["args"] = attr.SrcRange
	}
}

func blocksOf(body *hclsyntax.Body, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	return out
}

// Names Nomad knows in job, group and task blocks (Nomad 1.9). tmplrun
// reads few of them and ignores the rest; a name that is none of them but
// close to one is almost always a typo, and gets a warning.
var (
	nomadJobFields = []string{
		"all_at_once", "affinity", "constraint", "consul", "consul_token", "datacenters", "group", "id",
		"meta", "migrate", "multiregion", "name", "namespace", "node_pool", "parameterized", "periodic",
		"priority", "region", "reschedule", "spread", "template", "type", "ui", "update", "vault", "vault_token",
	}
	nomadGroupFields = []string{
		"affinity", "consul", "constraint", "count", "disconnect", "ephemeral_disk", "max_client_disconnect",
		"meta", "migrate", "network", "prevent_reschedule_on_lost", "reschedule", "restart", "scaling",
		"service", "shutdown_delay", "spread", "stop_after_client_disconnect", "task", "template", "update",
		"vault", "volume",
	}
	nomadTaskFields = []string{
		"action", "affinity", "artifact", "config", "constraint", "consul", "csi_plugin", "dispatch_payload",
		"driver", "env", "identity", "kill_signal", "kill_timeout", "kind", "leader", "lifecycle", "logs",
		"meta", "resources", "restart", "schedule", "scaling", "secret", "service", "shutdown_delay",
		"template", "user", "vault", "volume_mount",
	}
)

// nearMiss warns about a name a jobspec block does not know when it is
// close to one it does (kill_timout → kill_timeout). known is nil where no
// such check applies.
func (p *parser) nearMiss(rng hcl.Range, ctxName, what, name string, known []string) {
	if known == nil || slices.Contains(known, name) {
		return
	}
	s := suggest(name, known)
	if s == "" {
		return
	}
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  fmt.Sprintf("%s: unknown %s %q is ignored", ctxName, what, name),
		Detail:   fmt.Sprintf("did you mean %q?", s),
		Subject:  rng.Ptr(),
	})
}
