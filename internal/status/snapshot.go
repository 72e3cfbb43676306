package status

import "time"

// Snapshot is the answer of GET /v1/status.
type Snapshot struct {
	Version string    `json:"version"`
	Time    time.Time `json:"time"`
	// Clusters is tmplrun's own token on each Vault cluster, in the order
	// of the vault blocks (state "idle" until a task needs it).
	Clusters []Token `json:"clusters"`
	Tasks    []Task  `json:"tasks"`
}

// Task is one task's state.
type Task struct {
	Name string `json:"name"`
	// State is one of: starting (getting its token), waiting (for its
	// first render), running, rendered (no command: rendering only),
	// failed, stopped.
	State    string `json:"state"`
	PID      int    `json:"pid,omitempty"`
	Restarts uint64 `json:"restarts"`
	// LastError is why the task failed, or — while it is starting — why
	// its first token has not come yet (cleared when it comes).
	LastError string     `json:"last_error,omitempty"`
	Token     *Token     `json:"token,omitempty"`
	Vault     Vault      `json:"vault"`
	Templates []Template `json:"templates"`
}

// Token is the state of a Vault token — a task's, or tmplrun's own on a
// cluster — never the token itself (nor its accessor).
type Token struct {
	// Cluster names the cluster of tmplrun's own token (in Clusters only).
	Cluster string `json:"cluster,omitempty"`
	State   string `json:"state"`
	// Policies are the token's policies as Vault reported them.
	Policies []string `json:"policies"`
	// TTLSeconds is the time left (0 when expired, or when NeverExpires).
	TTLSeconds   float64    `json:"ttl_seconds"`
	NeverExpires bool       `json:"never_expires,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	Renewable    bool       `json:"renewable"`
	// Obtained is when the current token was issued.
	Obtained    *time.Time `json:"obtained,omitempty"`
	LastRenewal *time.Time `json:"last_renewal,omitempty"`
	// Renewals counts successful renewals (of every generation).
	Renewals int `json:"renewals"`
	// Next is the next planned step (renew, replace, expire) and NextAt
	// its time; both absent when nothing is planned.
	Next       string     `json:"next,omitempty"`
	NextAt     *time.Time `json:"next_at,omitempty"`
	Generation int        `json:"generation"`
	// Failures counts consecutive failed attempts; LastError is the last
	// one's message.
	Failures  int    `json:"failures"`
	LastError string `json:"last_error,omitempty"`
}

// Vault is what the task's runner saw of Vault.
type Vault struct {
	Reachable bool       `json:"reachable"`
	Since     *time.Time `json:"since,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	Requests  uint64     `json:"requests"`
	Errors    uint64     `json:"errors"`
}

// Template is one template's state.
type Template struct {
	Destination string     `json:"destination"`
	LastRender  *time.Time `json:"last_render,omitempty"`
	LastChange  *time.Time `json:"last_change,omitempty"`
	Renders     uint64     `json:"renders"`
	Errors      uint64     `json:"errors"`
	Missing     []string   `json:"missing"`
	LastError   string     `json:"last_error,omitempty"`
	Unstable    bool       `json:"unstable,omitempty"`
}

// TimePtr returns nil for a zero time, so that JSON omits it.
func TimePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
