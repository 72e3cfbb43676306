package status

import "time"

// Snapshot is the answer of GET /v1/status.
type Snapshot struct {
	Version string    `json:"version"`
	Time    time.Time `json:"time"`
	Tasks   []Task    `json:"tasks"`
}

// Task is one task's state.
type Task struct {
	Name string `json:"name"`
	// State is one of: waiting (for its first render), running, rendered
	// (no command: rendering only), restarting, failed, stopped.
	State     string     `json:"state"`
	PID       int        `json:"pid,omitempty"`
	Restarts  uint64     `json:"restarts"`
	LastError string     `json:"last_error,omitempty"`
	Token     *Token     `json:"token,omitempty"`
	Vault     Vault      `json:"vault"`
	Templates []Template `json:"templates"`
}

// Token is the state of a task's Vault token (never the token itself).
type Token struct {
	State       string     `json:"state"`
	TTLSeconds  float64    `json:"ttl_seconds"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	Renewable   bool       `json:"renewable"`
	LastRenewal *time.Time `json:"last_renewal,omitempty"`
	Generation  int        `json:"generation"`
	LastError   string     `json:"last_error,omitempty"`
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
