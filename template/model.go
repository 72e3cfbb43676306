package template

import (
	"io/fs"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Config is one tmplrun configuration file, decoded, defaulted and
// validated. ParseFile builds it; a program embedding tmplrun may also build
// one by hand and call Canonicalize and Validate.
//
// The hcl struct tags name the HCL attributes and blocks a user types; the
// decoder and docs/config.md are both driven by them.
type Config struct {
	// File is the configuration file this came from ("" when built in code).
	File string `hcl:"-"`

	// Format is FormatTmplrun or FormatJobspec.
	Format string `hcl:"-"`

	Vaults         []*VaultCluster `hcl:"vault,block"`
	TemplateConfig *TemplateConfig `hcl:"template_config,block"`
	Tasks          []*Task         `hcl:"task,block"`

	// Warnings are problems that do not stop the file from working (a
	// field that is ignored, a template source not found yet).
	Warnings hcl.Diagnostics `hcl:"-"`

	// src is the file's text, kept to place template-text problems.
	src []byte
}

// Config formats.
const (
	FormatTmplrun = "tmplrun" // our own file: vault, template_config, task blocks
	FormatJobspec = "jobspec" // a Nomad job: job → group → task
)

// VaultCluster is an agent-level `vault` block: how tmplrun reaches one
// Vault cluster and logs in to it. An unnamed block is the cluster
// "default"; a task picks a cluster with its vault block's `cluster`.
type VaultCluster struct {
	Name string `hcl:"name,label,optional"`

	// Address defaults to $VAULT_ADDR (then https://127.0.0.1:8200, as the
	// Vault API client does) when empty.
	Address       string `hcl:"address,attr"`
	Namespace     string `hcl:"namespace,attr"`
	CAFile        string `hcl:"ca_file,attr"`
	CertFile      string `hcl:"cert_file,attr"`
	KeyFile       string `hcl:"key_file,attr"`
	TLSServerName string `hcl:"tls_server_name,attr"`
	TLSSkipVerify bool   `hcl:"tls_skip_verify,attr"`

	// CreateFromRole is the token role task tokens are created against
	// (auth/token/create/<role>). Empty means auth/token/create, which needs
	// a parent token that holds the policies itself (or is root).
	CreateFromRole string `hcl:"create_from_role,attr"`

	Auth     *Auth     `hcl:"auth,block"`
	Identity *Identity `hcl:"identity,block"`

	Pos Pos `hcl:"-"`
}

// Auth methods tmplrun can log in with.
const (
	AuthToken      = "token"
	AuthAppRole    = "approle"
	AuthJWT        = "jwt"
	AuthKubernetes = "kubernetes"
	AuthCert       = "cert"
)

// Auth is the `auth "<method>"` block of an agent vault block: how tmplrun
// itself logs in. Which fields apply depends on Method.
type Auth struct {
	Method string `hcl:"method,label"`

	// Mount is the auth method's mount path; it defaults to the method name.
	Mount string `hcl:"mount,attr"`

	// token: TokenFile, or $VAULT_TOKEN when empty.
	TokenFile string `hcl:"token_file,attr"`

	// approle
	RoleIDFile   string `hcl:"role_id_file,attr"`
	SecretIDFile string `hcl:"secret_id_file,attr"`

	// jwt: Path is the file holding the JWT, re-read at every login.
	// jwt and kubernetes: Role is the auth role to log in as.
	Path string `hcl:"path,attr"`
	Role string `hcl:"role,attr"`

	// kubernetes: the service-account token file.
	TokenPath string `hcl:"token_path,attr"`

	// cert: the certificate role name (optional); the client certificate is
	// the cluster's cert_file/key_file.
	Name string `hcl:"name,attr"`

	Pos Pos `hcl:"-"`
}

// Identity is the optional `identity` block of an agent vault block:
// tmplrun signs a workload identity (a JWT naming the task) for every task
// whose vault block names a role, and logs in with it at Mount.
type Identity struct {
	SigningKeyFile string        `hcl:"signing_key_file,attr"`
	KeyID          string        `hcl:"key_id,attr"`
	Issuer         string        `hcl:"issuer,attr"`
	Audience       []string      `hcl:"audience,attr"`
	TTL            time.Duration `hcl:"ttl,attr"`
	Mount          string        `hcl:"mount,attr"`

	Pos Pos `hcl:"-"`
}

// TemplateConfig is the node-wide `template_config` block (Nomad's client
// `template` block).
type TemplateConfig struct {
	// FunctionDenylist names template functions that fail when called.
	// nil means DefaultFunctionDenylist; an empty list denies nothing.
	FunctionDenylist   []string `hcl:"function_denylist,attr"`
	DisableFileSandbox bool     `hcl:"disable_file_sandbox,attr"`

	VaultRetry *Retry `hcl:"vault_retry,block"`
	Wait       *Wait  `hcl:"wait,block"`
	WaitBounds *Wait  `hcl:"wait_bounds,block"`

	// VaultDefaultLeaseDuration is how often secrets without a lease (KV v2)
	// are re-read.
	VaultDefaultLeaseDuration time.Duration `hcl:"vault_default_lease_duration,attr"`

	// FirstRenderTimeout fails a task whose templates have not all rendered
	// after this long, naming what they wait for. 0 waits forever.
	FirstRenderTimeout time.Duration `hcl:"first_render_timeout,attr"`

	Pos Pos `hcl:"-"`
}

// Retry is a retry policy: Attempts 0 retries forever, with a backoff that
// doubles from Backoff up to MaxBackoff.
type Retry struct {
	Attempts   int           `hcl:"attempts,attr"`
	Backoff    time.Duration `hcl:"backoff,attr"`
	MaxBackoff time.Duration `hcl:"max_backoff,attr"`

	Pos Pos `hcl:"-"`
}

// Wait is a quiescence window: render only after dependencies have been
// quiet for Min, but no later than Max after the first change.
type Wait struct {
	Min *time.Duration `hcl:"min,attr"`
	Max *time.Duration `hcl:"max,attr"`

	Pos Pos `hcl:"-"`
}

// Task is a `task` block: one process (or none) and the templates and Vault
// token it needs.
type Task struct {
	Name string `hcl:"name,label"`

	// Dir is the task directory. ParseFile makes it absolute (relative
	// paths are relative to the configuration file); it defaults to the
	// task's name.
	Dir string `hcl:"dir,attr"`

	Command     string            `hcl:"command,attr"`
	Args        []string          `hcl:"args,attr"`
	Env         map[string]string `hcl:"env,attr"`
	KillSignal  string            `hcl:"kill_signal,attr"`
	KillTimeout time.Duration     `hcl:"kill_timeout,attr"`

	Vault     *Vault      `hcl:"vault,block"`
	Templates []*Template `hcl:"template,block"`

	Pos Pos `hcl:"-"`
}

// Change modes of a template (all four) and of a task's vault block (the
// first three).
const (
	ChangeModeNoop    = "noop"
	ChangeModeRestart = "restart"
	ChangeModeSignal  = "signal"
	ChangeModeScript  = "script"
)

// Vault is a task's `vault` block, exactly as in a Nomad jobspec: which
// token the task gets and what happens when it is replaced.
type Vault struct {
	// Policies: a child token with exactly these policies.
	Policies []string `hcl:"policies,attr"`
	// Role: a login with the task's workload identity to this JWT role.
	Role string `hcl:"role,attr"`

	Cluster   string `hcl:"cluster,attr"`
	Namespace string `hcl:"namespace,attr"`

	ChangeMode   string `hcl:"change_mode,attr"`
	ChangeSignal string `hcl:"change_signal,attr"`

	// Env puts VAULT_TOKEN (and VAULT_NAMESPACE) in the task's environment.
	Env *bool `hcl:"env,attr"`
	// DisableFile stops tmplrun writing <dir>/secrets/vault_token.
	DisableFile bool `hcl:"disable_file,attr"`

	AllowTokenExpiration bool `hcl:"allow_token_expiration,attr"`

	Pos Pos `hcl:"-"`
}

// EnvEnabled reports whether the token goes into the task's environment.
func (v *Vault) EnvEnabled() bool { return v.Env == nil || *v.Env }

// Template is a task's `template` block, every field of Nomad's.
type Template struct {
	// Source is a template file inside the task dir; Data is the template
	// text itself. Exactly one is set.
	Source string `hcl:"source,attr"`
	Data   string `hcl:"data,attr"`

	// Destination is relative to the task dir (after ${NOMAD_*} paths are
	// resolved, see ResolvePath).
	Destination string `hcl:"destination,attr"`

	ChangeMode   string        `hcl:"change_mode,attr"`
	ChangeSignal string        `hcl:"change_signal,attr"`
	ChangeScript *ChangeScript `hcl:"change_script,block"`

	Splay time.Duration `hcl:"splay,attr"`
	Perms fs.FileMode   `hcl:"perms,attr"`
	UID   *int          `hcl:"uid,attr"`
	GID   *int          `hcl:"gid,attr"`

	LeftDelimiter  string `hcl:"left_delimiter,attr"`
	RightDelimiter string `hcl:"right_delimiter,attr"`

	// Env parses the rendered file as KEY=VALUE lines into the task's
	// environment.
	Env               bool  `hcl:"env,attr"`
	ErrorOnMissingKey bool  `hcl:"error_on_missing_key,attr"`
	Once              bool  `hcl:"once,attr"`
	Wait              *Wait `hcl:"wait,block"`

	Pos Pos `hcl:"-"`

	// text maps Data's text back to the file, for template-text problems.
	text *textMap
}

// ChangeScript is the `change_script` block of a template in script mode.
type ChangeScript struct {
	Command          string        `hcl:"command,attr"`
	Args             []string      `hcl:"args,attr"`
	Timeout          time.Duration `hcl:"timeout,attr"`
	FailOnError      bool          `hcl:"fail_on_error,attr"`
	RunOnFirstRender bool          `hcl:"run_on_first_render,attr"`

	Pos Pos `hcl:"-"`
}

// Pos records where a block came from, for error messages. The zero value
// means "not from a file"; messages then name the task and template only.
type Pos struct {
	// Block is the block's header ("template {").
	Block hcl.Range
	// Attrs maps an attribute name to the range of the whole attribute.
	Attrs map[string]hcl.Range

	// failed names attributes that were written but did not decode; they
	// were reported, and keep their defaults.
	failed map[string]bool
	// name is how parse messages named the block (template #N (dest)).
	name string
}

// Of returns the range of attribute name, or the block's when the
// attribute was not written.
func (p Pos) Of(name string) *hcl.Range {
	if r, ok := p.Attrs[name]; ok {
		return &r
	}
	if p.Block.Filename == "" {
		return nil
	}
	r := p.Block
	return &r
}

// Has reports whether attribute name was written in the file.
func (p Pos) Has(name string) bool {
	_, ok := p.Attrs[name]
	return ok
}

// Wrote reports whether attribute name was written in the file and
// decoded: a value the user chose, even when it is zero. An attribute that
// did not decode was already reported and is not checked again.
func (p Pos) Wrote(name string) bool {
	return p.Has(name) && !p.failed[name]
}
