package agent

import (
	"fmt"

	"github.com/tmplrun/tmplrun/vaultauth"
)

// tokenFeed is what a task's runner needs of its token keeper
// (*vaultauth.TaskToken): the current token, and the ones that replace it.
type tokenFeed interface {
	Token() vaultauth.Token
	Subscribe(after int) (tokens <-chan vaultauth.Token, cancel func())
}

// follow takes the token a task's runner starts with and subscribes to
// the tokens that replace that very one. Reading the token once and
// subscribing from its generation is what makes this safe: a token that
// replaces it at any moment after — even before the runner has started —
// is delivered on news (buffered, the newest kept), never lost. Reading
// the generation again later would skip a replacement that came in
// between and leave the runner on a dead token for good.
func follow(f tokenFeed) (first vaultauth.Token, news <-chan vaultauth.Token, cancel func()) {
	first = f.Token()
	news, cancel = f.Subscribe(first.Generation)
	return first, news, cancel
}

// pendingReason is what a task still waiting for its first token shows
// as its last_error after a token event of its cluster: why it waits
// (tmplrun's own login or the task's derivation failed, Vault
// unreachable), and clear=true when the event means the wait is over
// for that reason. ok is false for events that say nothing about it. An
// event of tmplrun's own token (Task "") concerns every task of its
// cluster still waiting.
func pendingReason(e vaultauth.Event) (reason string, clear, ok bool) {
	who := "deriving its vault token"
	if e.Task == "" {
		who = "tmplrun's own login to vault cluster " + e.Cluster
	}
	switch e.Kind {
	case vaultauth.EventUnreachable:
		return fmt.Sprintf("waiting for its vault token: %s: vault unreachable: %v — retrying", who, e.Err), false, true
	case vaultauth.EventObtainFailed:
		return fmt.Sprintf("waiting for its vault token: %s failed: %v — retrying", who, e.Err), false, true
	case vaultauth.EventReachable, vaultauth.EventObtained:
		return "", true, true
	}
	return "", false, false
}

// tokenPending records, on every task still waiting for its first token
// that e concerns, why it waits (see pendingReason). It runs on the
// goroutine of the token's keeper and returns at once.
func (a *Agent) tokenPending(e vaultauth.Event) {
	reason, clear, ok := pendingReason(e)
	if !ok {
		return
	}
	for _, t := range a.tasks {
		v := t.spec.Vault
		switch {
		case v == nil:
			continue
		case e.Task != "" && e.Task != t.spec.Name:
			continue
		case e.Task == "" && (v.Cluster != e.Cluster || v.Role != ""):
			// tmplrun's own login concerns the tasks of its cluster that
			// derive their token with it (policies), not role logins.
			continue
		}
		t.mu.Lock()
		if t.token == nil && t.state == stateStarting {
			if clear {
				t.pending = ""
			} else {
				t.pending = reason
			}
		}
		t.mu.Unlock()
	}
}
