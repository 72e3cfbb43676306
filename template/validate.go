package template

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Validate checks a canonicalized Config and returns an *Error listing
// every problem, or nil. ParseFile already calls it; call it yourself for
// a Config built in code. Messages name the task and the template
// (`template #N (destination)`); for a parsed file they also carry
// file:line:col.
func (c *Config) Validate() error {
	diags := c.validate()
	if diags.HasErrors() {
		return &Error{Diagnostics: diags}
	}
	return nil
}

// checker collects diagnostics.
type checker struct {
	diags hcl.Diagnostics
	src   []byte // the file, to quote values as written; nil when built in code
}

// shown is attribute attr's value as the user wrote it ("90s", not
// "1m30s") when it was written as a plain string, else v formatted.
func (ch *checker) shown(pos Pos, attr string, v any) string {
	r, ok := pos.Attrs[attr]
	if ok && ch.src != nil && r.Start.Byte >= 0 && r.End.Byte <= len(ch.src) && r.Start.Byte < r.End.Byte {
		_, val, found := strings.Cut(string(ch.src[r.Start.Byte:r.End.Byte]), "=")
		val = strings.TrimSpace(val)
		if found && len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' && !strings.ContainsAny(val[1:len(val)-1], "\\\"$%") {
			return val[1 : len(val)-1]
		}
	}
	return fmt.Sprint(v)
}

// errorf reports a problem with attribute attr of a block at pos; ctx
// names the block.
func (c *checker) errorf(pos Pos, attr, ctx, format string, args ...any) {
	c.add(hcl.DiagError, pos, attr, ctx, format, args...)
}

func (c *checker) warnf(pos Pos, attr, ctx, format string, args ...any) {
	c.add(hcl.DiagWarning, pos, attr, ctx, format, args...)
}

func (c *checker) add(sev hcl.DiagnosticSeverity, pos Pos, attr, ctx, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if ctx != "" {
		msg = ctx + ": " + msg
	}
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: sev, Summary: msg, Subject: pos.Of(attr)})
}

var (
	templateChangeModes = []string{ChangeModeNoop, ChangeModeRestart, ChangeModeSignal, ChangeModeScript}
	vaultChangeModes    = []string{ChangeModeNoop, ChangeModeRestart, ChangeModeSignal}
	authMethods         = []string{AuthToken, AuthAppRole, AuthJWT, AuthKubernetes, AuthCert}
)

func (c *Config) validate() hcl.Diagnostics {
	ch := &checker{src: c.src}
	clusters := map[string]bool{}
	for _, v := range c.Vaults {
		ctx := "vault " + strconv.Quote(v.Name)
		if clusters[v.Name] {
			ch.errorf(v.Pos, "", ctx, "a vault block named %q is already defined; name each cluster once (an unnamed block is %q)", v.Name, DefaultCluster)
		}
		clusters[v.Name] = true
		ch.vaultCluster(v, ctx)
	}
	if c.TemplateConfig != nil {
		ch.templateConfig(c.TemplateConfig)
	}
	names := map[string]Pos{}
	dirs := map[string]string{}
	for _, t := range c.Tasks {
		ctx := "task " + strconv.Quote(t.Name)
		if prev, dup := names[t.Name]; dup {
			ch.errorf(t.Pos, "", ctx, "another task has the same name%s; task names must be unique", atLine(prev))
		}
		names[t.Name] = t.Pos
		if other, dup := dirs[filepath.Clean(t.Dir)]; dup && t.Name != other {
			ch.errorf(t.Pos, "dir", ctx, "task %q uses the same dir %s; each task needs its own", other, t.Dir)
		}
		dirs[filepath.Clean(t.Dir)] = t.Name
		ch.task(c, t, ctx)
	}
	if len(c.Tasks) == 0 {
		ch.diags = append(ch.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "the file defines no tasks: there is nothing to render"})
	}
	return ch.diags
}

func atLine(p Pos) string {
	if p.Block.Filename == "" {
		return ""
	}
	return fmt.Sprintf(" (line %d)", p.Block.Start.Line)
}

func (ch *checker) vaultCluster(v *VaultCluster, ctx string) {
	if (v.CertFile == "") != (v.KeyFile == "") {
		ch.errorf(v.Pos, pick(v.CertFile == "", "key_file", "cert_file"), ctx, "cert_file and key_file go together: set both or neither")
	}
	if v.Auth == nil {
		ch.errorf(v.Pos, "", ctx, "needs exactly one auth block saying how tmplrun logs in, e.g. auth \"token\" {} to use $VAULT_TOKEN, or auth \"approle\" { role_id_file = … secret_id_file = … }")
	} else {
		ch.auth(v, ctx+", auth "+strconv.Quote(v.Auth.Method))
	}
	if id := v.Identity; id != nil {
		ictx := ctx + ", identity"
		if id.SigningKeyFile == "" {
			ch.errorf(id.Pos, "signing_key_file", ictx, "signing_key_file is required: the PEM private key tmplrun signs workload identities with")
		}
		if id.TTL <= 0 {
			ch.errorf(id.Pos, "ttl", ictx, "ttl must be positive, not %s", ch.shown(id.Pos, "ttl", id.TTL))
		}
	}
}

// authFields lists which auth attributes each method uses; the rest are
// refused, so that a field meant for another method is not silently
// ignored.
var authFields = map[string][]string{
	AuthToken:      {"token_file"},
	AuthAppRole:    {"role_id_file", "secret_id_file"},
	AuthJWT:        {"path", "role"},
	AuthKubernetes: {"role", "token_path"},
	AuthCert:       {"name"},
}

func (ch *checker) auth(v *VaultCluster, ctx string) {
	a := v.Auth
	if !slices.Contains(authMethods, a.Method) {
		ch.errorf(a.Pos, "", ctx, "unknown auth method %q; use one of %s", a.Method, strings.Join(authMethods, ", "))
		return
	}
	set := map[string]bool{
		"token_file": a.TokenFile != "", "role_id_file": a.RoleIDFile != "", "secret_id_file": a.SecretIDFile != "",
		"path": a.Path != "", "role": a.Role != "", "token_path": a.TokenPath != "", "name": a.Name != "",
	}
	for _, f := range sortedKeys(set) {
		if set[f] && !slices.Contains(authFields[a.Method], f) {
			ch.errorf(a.Pos, f, ctx, "%s does not apply to auth %q (it takes %s)", f, a.Method, strings.Join(authFields[a.Method], ", "))
		}
	}
	need := func(field string, ok bool, why string) {
		if !ok {
			ch.errorf(a.Pos, field, ctx, "%s is required: %s", field, why)
		}
	}
	switch a.Method {
	case AuthAppRole:
		need("role_id_file", a.RoleIDFile != "", "the file holding the AppRole role_id")
	case AuthJWT:
		need("path", a.Path != "", "the file holding the JWT (re-read at every login)")
		need("role", a.Role != "", "the JWT auth role to log in as")
	case AuthKubernetes:
		need("role", a.Role != "", "the Kubernetes auth role to log in as")
	case AuthCert:
		if v.CertFile == "" {
			ch.errorf(a.Pos, "", ctx, "auth \"cert\" logs in with the vault block's cert_file and key_file; set them")
		}
	}
}

func (ch *checker) templateConfig(tc *TemplateConfig) {
	ctx := "template_config"
	if r := tc.VaultRetry; r != nil {
		rctx := ctx + ", vault_retry"
		if r.Attempts < 0 {
			ch.errorf(r.Pos, "attempts", rctx, "attempts must be 0 (retry forever) or more, not %d", r.Attempts)
		}
		if r.Backoff <= 0 {
			ch.errorf(r.Pos, "backoff", rctx, "backoff must be positive, not %s: it is the first wait between retries", ch.shown(r.Pos, "backoff", r.Backoff))
		}
		if r.MaxBackoff <= 0 {
			ch.errorf(r.Pos, "max_backoff", rctx, "max_backoff must be positive, not %s", ch.shown(r.Pos, "max_backoff", r.MaxBackoff))
		} else if r.MaxBackoff < r.Backoff {
			ch.errorf(r.Pos, "max_backoff", rctx, "max_backoff (%s) is less than backoff (%s)", ch.shown(r.Pos, "max_backoff", r.MaxBackoff), ch.shown(r.Pos, "backoff", r.Backoff))
		}
	}
	ch.wait(tc.Wait, ctx+", wait")
	ch.wait(tc.WaitBounds, ctx+", wait_bounds")
	if tc.VaultDefaultLeaseDuration <= 0 {
		ch.errorf(tc.Pos, "vault_default_lease_duration", ctx, "vault_default_lease_duration must be positive, not %s: it is how often secrets without a lease are re-read", ch.shown(tc.Pos, "vault_default_lease_duration", tc.VaultDefaultLeaseDuration))
	}
	if tc.FirstRenderTimeout < 0 {
		ch.errorf(tc.Pos, "first_render_timeout", ctx, "first_render_timeout must be 0 (wait forever) or positive")
	}
}

func (ch *checker) wait(w *Wait, ctx string) {
	if w == nil {
		return
	}
	if w.Min != nil && *w.Min < 0 {
		ch.errorf(w.Pos, "min", ctx, "min must not be negative")
	}
	if w.Min != nil && w.Max != nil && *w.Max < *w.Min {
		ch.errorf(w.Pos, "max", ctx, "max (%s) is less than min (%s)", ch.shown(w.Pos, "max", *w.Max), ch.shown(w.Pos, "min", *w.Min))
	}
}

func (ch *checker) task(c *Config, t *Task, ctx string) {
	if strings.TrimSpace(t.Name) == "" || strings.ContainsAny(t.Name, "\x00\n\t") {
		ch.errorf(t.Pos, "", ctx, "a task needs a name of printable characters")
	}
	if t.Command == "" && len(t.Args) > 0 {
		ch.errorf(t.Pos, "args", ctx, "args without a command; set command too")
	}
	if !signalExists(t.KillSignal) {
		ch.errorf(t.Pos, "kill_signal", ctx, "kill_signal %q is not a signal on this system", t.KillSignal)
	}
	if t.KillTimeout < 0 {
		ch.errorf(t.Pos, "kill_timeout", ctx, "kill_timeout must not be negative")
	}
	for _, k := range sortedKeys(t.Env) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			ch.errorf(t.Pos, "env", ctx, "env name %q is not a valid environment variable name", k)
		}
	}
	if t.Vault != nil {
		ch.taskVault(c, t.Vault, ctx+", vault")
	}
	dests := map[string]Pos{}
	for i, tmpl := range t.Templates {
		tctx := ctx + ", " + tmpl.label(i)
		ch.template(c, t, tmpl, tctx)
		if prev, dup := dests[tmpl.Destination]; dup && tmpl.Destination != "" {
			ch.errorf(tmpl.Pos, "destination", tctx, "another template of this task writes the same destination%s", atLine(prev))
		}
		dests[tmpl.Destination] = tmpl.Pos
	}
}

func (ch *checker) taskVault(c *Config, v *Vault, ctx string) {
	switch {
	case len(v.Policies) > 0 && v.Role != "":
		ch.errorf(v.Pos, "role", ctx, "set policies or role, not both: policies derive a child token, role logs in with the task's workload identity")
	case len(v.Policies) == 0 && v.Role == "":
		ch.errorf(v.Pos, "policies", ctx, "set policies (a child token with exactly those policies) or role (a login with the task's workload identity)")
	}
	for _, p := range v.Policies {
		if p == "root" {
			ch.errorf(v.Pos, "policies", ctx, "the root policy is never given to a task")
		}
		if strings.TrimSpace(p) == "" {
			ch.errorf(v.Pos, "policies", ctx, "a policy name is empty")
		}
	}
	cluster := c.Cluster(v.Cluster)
	if cluster == nil {
		var known []string
		for _, k := range c.Vaults {
			known = append(known, strconv.Quote(k.Name))
		}
		ch.errorf(v.Pos, "cluster", ctx, "cluster %q is not defined; the vault blocks define %s", v.Cluster, strings.Join(known, ", "))
	} else if v.Role != "" && len(v.Policies) == 0 && cluster.Identity == nil {
		ch.errorf(v.Pos, "role", ctx, "role %q logs in with a workload identity, but vault %q has no identity block to sign one", v.Role, cluster.Name)
	}
	ch.changeMode(v.Pos, ctx, v.ChangeMode, vaultChangeModes, v.ChangeSignal)
}

// changeMode checks a change_mode and its change_signal.
func (ch *checker) changeMode(pos Pos, ctx, mode string, allowed []string, signal string) {
	if !slices.Contains(allowed, mode) {
		ch.errorf(pos, "change_mode", ctx, "change_mode %q is not one of %s", mode, strings.Join(allowed, ", "))
		return
	}
	switch {
	case mode == ChangeModeSignal && signal == "":
		ch.errorf(pos, "change_signal", ctx, "change_mode = \"signal\" needs change_signal, e.g. \"SIGHUP\"")
	case mode == ChangeModeSignal && !signalExists(signal):
		ch.errorf(pos, "change_signal", ctx, "change_signal %q is not a signal on this system", signal)
	case mode != ChangeModeSignal && signal != "" && pos.Has("change_signal"):
		ch.warnf(pos, "change_signal", ctx, "change_signal is ignored unless change_mode = \"signal\"")
	}
}

func (ch *checker) template(c *Config, t *Task, tmpl *Template, ctx string) {
	// A field written but not decoded was reported already (Has without
	// Wrote): nothing more is said about it.
	if tmpl.Pos.Wrote("data") && tmpl.Data == "" {
		ch.errorf(tmpl.Pos, "data", ctx, "data is empty: write the template text, or use source instead")
	}
	if tmpl.Pos.Wrote("source") && tmpl.Source == "" {
		ch.errorf(tmpl.Pos, "source", ctx, "source is empty: name a template file in the task dir, or use data instead")
	}
	switch {
	case tmpl.Source != "" && tmpl.Data != "":
		ch.errorf(tmpl.Pos, "data", ctx, "set source or data, not both")
	case tmpl.Source == "" && tmpl.Data == "" && !tmpl.Pos.Has("data") && !tmpl.Pos.Has("source"):
		ch.errorf(tmpl.Pos, "", ctx, "set source (a template file in the task dir) or data (the template text)")
	}
	switch {
	case tmpl.Destination == "" && !tmpl.Pos.Has("destination"):
		ch.errorf(tmpl.Pos, "", ctx, "destination is required: where the rendered file goes, relative to the task dir")
	case tmpl.Destination == "" && tmpl.Pos.Wrote("destination"):
		ch.errorf(tmpl.Pos, "destination", ctx, "destination is empty: write where the rendered file goes, relative to the task dir")
	case tmpl.Destination != "":
		ch.destination(t, tmpl, ctx)
	}
	sandboxed := c.TemplateConfig == nil || !c.TemplateConfig.DisableFileSandbox
	if tmpl.Source != "" && sandboxed {
		if _, err := ResolvePath(t.Dir, tmpl.Source); err != nil {
			ch.errorf(tmpl.Pos, "source", ctx, "source: %s", err)
		}
	}
	ch.changeMode(tmpl.Pos, ctx, tmpl.ChangeMode, templateChangeModes, tmpl.ChangeSignal)
	if tmpl.Env && tmpl.ChangeMode == ChangeModeSignal {
		ch.errorf(tmpl.Pos, "change_mode", ctx, "an env template cannot use change_mode = \"signal\": a running process cannot receive a new environment; use restart (or noop)")
	}
	switch {
	case tmpl.ChangeMode == ChangeModeScript && (tmpl.ChangeScript == nil || strings.TrimSpace(tmpl.ChangeScript.Command) == ""):
		ch.errorf(tmpl.Pos, "change_mode", ctx, "change_mode = \"script\" needs a change_script block with a command")
	case tmpl.ChangeMode != ChangeModeScript && tmpl.ChangeScript != nil:
		ch.warnf(tmpl.ChangeScript.Pos, "", ctx, "change_script is ignored unless change_mode = \"script\"")
	}
	if s := tmpl.ChangeScript; s != nil && s.Timeout <= 0 {
		ch.errorf(s.Pos, "timeout", ctx+", change_script", "timeout must be positive, not %s", ch.shown(s.Pos, "timeout", s.Timeout))
	}
	if tmpl.Splay < 0 {
		ch.errorf(tmpl.Pos, "splay", ctx, "splay must not be negative")
	}
	if tmpl.Perms&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
		ch.errorf(tmpl.Pos, "perms", ctx, "perms %v is not a 12-bit file mode", tmpl.Perms)
	}
	if tmpl.LeftDelimiter == tmpl.RightDelimiter && tmpl.LeftDelimiter != "" {
		ch.errorf(tmpl.Pos, "right_delimiter", ctx, "left_delimiter and right_delimiter are both %q; they must differ", tmpl.LeftDelimiter)
	}
	ch.wait(tmpl.Wait, ctx+", wait")
	if w, b := tmpl.Wait, c.TemplateConfig; w != nil && b != nil && b.WaitBounds != nil {
		ch.withinBounds(w, b.WaitBounds, ctx+", wait")
	}
}

// destination checks a template's destination: inside the task dir, a
// file rather than one of the task dir's own directories, and not the
// task's token file.
func (ch *checker) destination(t *Task, tmpl *Template, ctx string) {
	rel, err := ResolvePath(t.Dir, tmpl.Destination)
	if err != nil {
		ch.errorf(tmpl.Pos, "destination", ctx, "destination: %s", err)
		return
	}
	switch rel {
	case LocalDir, SecretsDir, TmpDir, AllocDir:
		ch.errorf(tmpl.Pos, "destination", ctx, "destination %s is the task dir's %s directory, not a file in it; name a file, e.g. %s/app.conf", rel, rel, rel)
	case TokenFile:
		if t.Vault != nil && !t.Vault.DisableFile {
			ch.errorf(tmpl.Pos, "destination", ctx, "destination %s is where tmplrun writes the task's Vault token; choose another file (or set disable_file = true in the task's vault block)", rel)
		}
	}
}

// label names template i of its task in messages: as parsing named it,
// for a template from a file, else by its place among the task's
// templates.
func (t *Template) label(i int) string {
	if t.Pos.name != "" {
		return t.Pos.name
	}
	return templateName(i+1, t.Destination)
}

// templateName names a template in messages: its place among the
// template blocks of its block (from 1) and, when known, its destination.
func templateName(n int, dest string) string {
	if dest == "" {
		return fmt.Sprintf("template #%d", n)
	}
	return fmt.Sprintf("template #%d (%s)", n, dest)
}

// withinBounds checks a template's wait against the node's wait_bounds.
func (ch *checker) withinBounds(w, bounds *Wait, ctx string) {
	check := func(attr string, v *time.Duration) {
		if v == nil || (w.Pos.Block.Filename != "" && !w.Pos.Has(attr)) {
			// Only what the user wrote is checked; a derived max (4 × min)
			// is clamped to the bounds at run time, as Nomad does.
			return
		}
		if bounds.Min != nil && *v < *bounds.Min {
			ch.errorf(w.Pos, attr, ctx, "%s (%s) is below template_config wait_bounds min (%s)", attr, ch.shown(w.Pos, attr, *v), ch.shown(bounds.Pos, "min", *bounds.Min))
		}
		if bounds.Max != nil && *v > *bounds.Max {
			ch.errorf(w.Pos, attr, ctx, "%s (%s) is above template_config wait_bounds max (%s)", attr, ch.shown(w.Pos, attr, *v), ch.shown(bounds.Pos, "max", *bounds.Max))
		}
	}
	check("min", w.Min)
	check("max", w.Max)
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}
