package template

import (
	"strings"
	"time"
)

// Defaults, in one place. Nomad's where Nomad has one; ours are marked.
const (
	DefaultChangeMode    = ChangeModeRestart
	DefaultChangeSignal  = "SIGHUP"
	DefaultSplay         = 5 * time.Second
	DefaultPerms         = 0o644
	DefaultLeftDelim     = "{{"
	DefaultRightDelim    = "}}"
	DefaultScriptTimeout = 5 * time.Second

	DefaultVaultChangeMode = ChangeModeRestart
	DefaultCluster         = "default"

	DefaultKillSignal  = "SIGTERM" // ours: Vault Agent's exec default; Nomad's is SIGINT
	DefaultKillTimeout = 5 * time.Second

	// Ours: Nomad's client default since 1.x is also 0 (forever); the
	// backoff doubles from 250ms and is capped at 1m.
	DefaultVaultRetryAttempts   = 0
	DefaultVaultRetryBackoff    = 250 * time.Millisecond
	DefaultVaultRetryMaxBackoff = time.Minute

	DefaultWaitMin                   = 5 * time.Second
	DefaultWaitMax                   = 4 * time.Minute
	DefaultVaultDefaultLeaseDuration = 5 * time.Minute

	DefaultIdentityIssuer = "tmplrun"
	DefaultIdentityTTL    = time.Hour
	DefaultIdentityMount  = "jwt"
)

// DefaultFunctionDenylist is the function_denylist used when none is
// written: functions that run programs or write files outside the
// template's own destination.
var DefaultFunctionDenylist = []string{"plugin", "writeToFile", "executeTemplate"}

// DefaultIdentityAudience is the audience of workload identities when the
// identity block names none.
var DefaultIdentityAudience = []string{"vault.io"}

// NewTemplate returns a template block with Nomad's defaults: change_mode
// restart, splay 5s, perms 0644, {{ }} delimiters. The decoder starts every
// template block from it, so a field the user did not write keeps its
// default while one written as zero (splay = "0s") stays zero. Programs
// building templates in code should start from it too.
func NewTemplate() *Template {
	return &Template{
		ChangeMode:     DefaultChangeMode,
		Splay:          DefaultSplay,
		Perms:          DefaultPerms,
		LeftDelimiter:  DefaultLeftDelim,
		RightDelimiter: DefaultRightDelim,
	}
}

// NewChangeScript returns a change_script block with its default timeout.
func NewChangeScript() *ChangeScript {
	return &ChangeScript{Timeout: DefaultScriptTimeout}
}

// NewVault returns a task vault block with Nomad's defaults.
func NewVault() *Vault {
	env := true
	return &Vault{Cluster: DefaultCluster, ChangeMode: DefaultVaultChangeMode, Env: &env}
}

// NewTask returns a task block with its defaults; Dir defaults to the name.
func NewTask(name string) *Task {
	return &Task{Name: name, KillSignal: DefaultKillSignal, KillTimeout: DefaultKillTimeout}
}

// NewTemplateConfig returns the node-wide template settings used when the
// file has no template_config block.
func NewTemplateConfig() *TemplateConfig {
	return &TemplateConfig{
		VaultRetry:                NewRetry(),
		Wait:                      &Wait{Min: ptr(DefaultWaitMin), Max: ptr(DefaultWaitMax)},
		VaultDefaultLeaseDuration: DefaultVaultDefaultLeaseDuration,
	}
}

// NewRetry returns the default vault_retry policy: forever, 250ms → 1m.
func NewRetry() *Retry {
	return &Retry{
		Attempts:   DefaultVaultRetryAttempts,
		Backoff:    DefaultVaultRetryBackoff,
		MaxBackoff: DefaultVaultRetryMaxBackoff,
	}
}

// NewVaultCluster returns an agent vault block named name that logs in
// with a token from $VAULT_TOKEN; it is what a file without a vault block
// gets.
func NewVaultCluster(name string) *VaultCluster {
	return &VaultCluster{Name: name, Auth: &Auth{Method: AuthToken, Mount: AuthToken}}
}

// NewIdentity returns an identity block with its defaults.
func NewIdentity() *Identity {
	return &Identity{
		Issuer:   DefaultIdentityIssuer,
		Audience: append([]string(nil), DefaultIdentityAudience...),
		TTL:      DefaultIdentityTTL,
		Mount:    DefaultIdentityMount,
	}
}

// Canonicalize fills what is still unset after decoding, or in a Config
// built in code: zero values that were not written in the file (an empty
// change_mode, a zero perms or kill_timeout; a zero the user wrote is
// kept, and Validate refuses it where it means nothing), derived defaults (change_signal for signal
// mode, a cluster name, a task dir), the implicit default vault cluster,
// and the normal form of names (signals upper-cased) and paths (template
// sources and destinations relative to the task dir, ${NOMAD_*} resolved).
// It never fails: what it cannot normalise it leaves for Validate to
// report.
func (c *Config) Canonicalize() {
	if c.TemplateConfig == nil {
		c.TemplateConfig = NewTemplateConfig()
	}
	c.TemplateConfig.canonicalize()
	if c.find(DefaultCluster) == nil {
		c.Vaults = append(c.Vaults, NewVaultCluster(DefaultCluster))
	}
	for _, v := range c.Vaults {
		v.canonicalize()
	}
	for _, t := range c.Tasks {
		t.Canonicalize()
	}
}

// find returns the vault cluster named name, or nil.
func (c *Config) find(name string) *VaultCluster {
	for _, v := range c.Vaults {
		if v.Name == name || (v.Name == "" && name == DefaultCluster) {
			return v
		}
	}
	return nil
}

// Cluster returns the agent vault block a task's vault block names.
func (c *Config) Cluster(name string) *VaultCluster {
	if name == "" {
		name = DefaultCluster
	}
	return c.find(name)
}

func (tc *TemplateConfig) canonicalize() {
	if tc.FunctionDenylist == nil {
		tc.FunctionDenylist = append([]string(nil), DefaultFunctionDenylist...)
	}
	if tc.VaultRetry == nil {
		tc.VaultRetry = NewRetry()
	}
	if tc.VaultRetry.Backoff == 0 && !tc.VaultRetry.Pos.Has("backoff") {
		tc.VaultRetry.Backoff = DefaultVaultRetryBackoff
	}
	if tc.VaultRetry.MaxBackoff == 0 && !tc.VaultRetry.Pos.Has("max_backoff") {
		tc.VaultRetry.MaxBackoff = DefaultVaultRetryMaxBackoff
	}
	if tc.Wait == nil {
		tc.Wait = &Wait{Min: ptr(DefaultWaitMin), Max: ptr(DefaultWaitMax)}
	}
	tc.Wait.canonicalize()
	if tc.WaitBounds != nil {
		// A bound that is not written does not bind.
		if tc.WaitBounds.Min == nil {
			tc.WaitBounds.Min = ptr(time.Duration(0))
		}
	}
	if tc.VaultDefaultLeaseDuration == 0 && !tc.Pos.Has("vault_default_lease_duration") {
		tc.VaultDefaultLeaseDuration = DefaultVaultDefaultLeaseDuration
	}
}

// canonicalize completes a wait block as consul-template does: a min
// without a max gets max = 4 × min; a max without a min gets min = 0.
func (w *Wait) canonicalize() {
	if w == nil {
		return
	}
	if w.Min != nil && w.Max == nil {
		w.Max = ptr(4 * *w.Min)
	}
	if w.Min == nil && w.Max != nil {
		w.Min = ptr(time.Duration(0))
	}
}

func (v *VaultCluster) canonicalize() {
	if v.Name == "" {
		v.Name = DefaultCluster
	}
	if v.Auth != nil && v.Auth.Mount == "" {
		v.Auth.Mount = v.Auth.Method
	}
	if id := v.Identity; id != nil {
		if id.Issuer == "" {
			id.Issuer = DefaultIdentityIssuer
		}
		if len(id.Audience) == 0 {
			id.Audience = append([]string(nil), DefaultIdentityAudience...)
		}
		if id.TTL == 0 && !id.Pos.Has("ttl") {
			id.TTL = DefaultIdentityTTL
		}
		if id.Mount == "" {
			id.Mount = DefaultIdentityMount
		}
	}
}

// Canonicalize completes a task block: see Config.Canonicalize. A relative
// Dir stays relative (ParseFile makes it absolute against the file).
func (t *Task) Canonicalize() {
	if t.Dir == "" {
		t.Dir = t.Name
	}
	if t.KillSignal == "" {
		t.KillSignal = DefaultKillSignal
	}
	t.KillSignal = normalSignal(t.KillSignal)
	if t.KillTimeout == 0 && !t.Pos.Has("kill_timeout") {
		// kill_timeout = "0s" written: SIGKILL right after kill_signal.
		t.KillTimeout = DefaultKillTimeout
	}
	if t.Vault != nil {
		t.Vault.Canonicalize()
	}
	for _, tmpl := range t.Templates {
		tmpl.Canonicalize()
		tmpl.Destination = canonicalPath(t.Dir, tmpl.Destination)
		tmpl.Source = canonicalPath(t.Dir, tmpl.Source)
	}
}

// Canonicalize completes a task vault block.
func (v *Vault) Canonicalize() {
	if v.Cluster == "" {
		v.Cluster = DefaultCluster
	}
	if v.ChangeMode == "" {
		v.ChangeMode = DefaultVaultChangeMode
	}
	v.ChangeSignal = normalSignal(v.ChangeSignal)
	if v.Env == nil {
		env := true
		v.Env = &env
	}
}

// Canonicalize completes a template block.
func (t *Template) Canonicalize() {
	if t.ChangeMode == "" {
		t.ChangeMode = DefaultChangeMode
	}
	t.ChangeSignal = normalSignal(t.ChangeSignal)
	if t.ChangeMode == ChangeModeSignal && t.ChangeSignal == "" {
		t.ChangeSignal = DefaultChangeSignal
	}
	if t.Perms == 0 && !t.Pos.Has("perms") {
		t.Perms = DefaultPerms
	}
	if t.LeftDelimiter == "" {
		t.LeftDelimiter = DefaultLeftDelim
	}
	if t.RightDelimiter == "" {
		t.RightDelimiter = DefaultRightDelim
	}
	if t.ChangeScript != nil && t.ChangeScript.Timeout == 0 && !t.ChangeScript.Pos.Has("timeout") {
		t.ChangeScript.Timeout = DefaultScriptTimeout
	}
	t.Wait.canonicalize()
}

// normalSignal upper-cases a signal name and adds the SIG prefix Nomad
// users sometimes leave out ("hup" → "SIGHUP").
func normalSignal(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s != "" && !strings.HasPrefix(s, "SIG") {
		s = "SIG" + s
	}
	return s
}

func ptr[T any](v T) *T { return &v }
