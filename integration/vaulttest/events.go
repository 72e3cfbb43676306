package vaulttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/helper/namespace"
	"github.com/hashicorp/vault/sdk/logical"
	"google.golang.org/protobuf/types/known/structpb"
	"nhooyr.io/websocket"
)

// probeKey marks the harness's own probe events in their metadata.
const probeKey = "vaulttest_probe"

// Event is one event Vault delivered to a subscriber.
type Event struct {
	// ID is the event's own id.
	ID string
	// Type is the event type, e.g. "kv-v2/data-write".
	Type string
	// Metadata is what the plugin attached, e.g. for KV v2 writes
	// "path" ("data/web/config", relative to the mount),
	// "current_version" and "oldest_version". Never secret values.
	Metadata map[string]string
	// MountPath is the mount of the plugin that sent it, e.g. "secret/".
	MountPath string
	// Plugin is that plugin's type, e.g. "kv".
	Plugin string
	// Raw is the whole CloudEvents JSON document Vault sent.
	Raw json.RawMessage
}

// Subscription receives the events of one type (or glob pattern of
// types, e.g. "kv-v2/*") over a WebSocket to
// sys/events/subscribe/TYPE?json=true.
type Subscription struct {
	// C delivers the events in the order Vault sent them on the socket
	// (Vault 1.14 does not promise the order of events sent close
	// together). The subscription's reader closes it when the
	// subscription ends: Close, Vault going down or closing, or Vault
	// dropping a subscriber that did not take an event for 60 s. A
	// reader that does not drain it holds up only this subscription.
	C <-chan Event

	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Subscribe subscribes to events of eventType with the root token and
// returns once Vault delivers them; Close (or the Vault's Close) ends
// the subscription.
//
// To know that Vault has registered the subscription, Subscribe sends
// probe events of eventType through the core's event bus until one comes
// back; they carry the metadata key "vaulttest_probe" and C never
// delivers them, but other subscribers to the same type see them. The
// subscription's own request (GET sys/events/subscribe/TYPE) goes over
// HTTP and is counted by Requests.
func (v *Vault) Subscribe(eventType string) *Subscription {
	v.t.Helper()
	s, err := v.SubscribeToken(v.RootToken, eventType)
	if err != nil {
		v.t.Fatalf("vaulttest: subscribe to %s: %v", eventType, err)
	}
	return s
}

// SubscribeToken is Subscribe with token, returning Vault's refusal (an
// error) rather than stopping the test.
func (v *Vault) SubscribeToken(token, eventType string) (*Subscription, error) {
	ctx, cancel := context.WithCancel(context.Background())
	url := "ws" + strings.TrimPrefix(v.Addr, "http") + "/v1/sys/events/subscribe/" + eventType + "?json=true"
	dialCtx, dialCancel := context.WithTimeout(ctx, helperTimeout)
	conn, resp, err := websocket.Dial(dialCtx, url, &websocket.DialOptions{
		HTTPHeader: http.Header{"X-Vault-Token": {token}},
	})
	dialCancel()
	if err != nil {
		cancel()
		if resp != nil {
			return nil, fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)

	out := make(chan Event, 64)
	probes := make(chan struct{}, 1)
	s := &Subscription{C: out, cancel: cancel, done: make(chan struct{})}
	go s.read(ctx, conn, out, probes)

	if err := v.probe(ctx, eventType, probes, s.done); err != nil {
		s.Close()
		return nil, err
	}
	v.onClose(s.Close)
	return s, nil
}

// read delivers the socket's events to out until the socket or ctx ends,
// then closes out. It drops probe events, telling probes of them.
func (s *Subscription) read(ctx context.Context, conn *websocket.Conn, out chan<- Event, probes chan<- struct{}) {
	defer close(s.done)
	defer close(out)
	defer conn.Close(websocket.StatusNormalClosure, "")
	for {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			return
		}
		ev, err := parseEvent(msg)
		if err != nil {
			continue
		}
		if _, ok := ev.Metadata[probeKey]; ok {
			select {
			case probes <- struct{}{}:
			default:
			}
			continue
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return
		}
	}
}

// probe sends probe events of eventType, one at a time, until one comes
// back through probes. Probes sent before Vault registered the
// subscription are lost; waiting for each before sending the next keeps
// stragglers, which would compete with real events, few.
func (v *Vault) probe(ctx context.Context, eventType string, probes, done <-chan struct{}) error {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	meta, err := structpb.NewStruct(map[string]any{probeKey: hex.EncodeToString(id)})
	if err != nil {
		return err
	}
	deadline := time.NewTimer(helperTimeout)
	defer deadline.Stop()
	for {
		data, err := logical.NewEvent()
		if err != nil {
			return err
		}
		data.Metadata = meta
		err = v.Core.Events().SendInternal(ctx, namespace.RootNamespace,
			&logical.EventPluginInfo{Plugin: "vaulttest"}, logical.EventType(eventType), data)
		if err != nil {
			return fmt.Errorf("send probe event: %w", err)
		}
		wait := time.NewTimer(100 * time.Millisecond)
		select {
		case <-probes:
			wait.Stop()
			return nil
		case <-done:
			wait.Stop()
			return fmt.Errorf("subscription to %s ended before it was ready", eventType)
		case <-deadline.C:
			wait.Stop()
			return fmt.Errorf("subscription to %s not ready after %v", eventType, helperTimeout)
		case <-wait.C:
		}
	}
}

// Next returns the next event, or false when none comes within timeout
// or the subscription has ended.
func (s *Subscription) Next(timeout time.Duration) (Event, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case ev, ok := <-s.C:
		return ev, ok
	case <-t.C:
		return Event{}, false
	}
}

// Close ends the subscription and waits for its reader to stop. It may
// be called more than once.
func (s *Subscription) Close() {
	s.once.Do(s.cancel)
	<-s.done
}

// cloudEvent is the JSON Vault 1.14 sends on the socket: a CloudEvents
// envelope whose data is the logical.EventReceived.
type cloudEvent struct {
	Data struct {
		Event struct {
			ID       string         `json:"id"`
			Metadata map[string]any `json:"metadata"`
		} `json:"event"`
		EventType  string `json:"event_type"`
		PluginInfo struct {
			MountPath string `json:"mount_path"`
			Plugin    string `json:"plugin"`
		} `json:"plugin_info"`
	} `json:"data"`
}

func parseEvent(msg []byte) (Event, error) {
	var ce cloudEvent
	if err := json.Unmarshal(msg, &ce); err != nil {
		return Event{}, err
	}
	ev := Event{
		ID:        ce.Data.Event.ID,
		Type:      ce.Data.EventType,
		MountPath: ce.Data.PluginInfo.MountPath,
		Plugin:    ce.Data.PluginInfo.Plugin,
		Metadata:  map[string]string{},
		Raw:       append(json.RawMessage(nil), msg...),
	}
	for k, v := range ce.Data.Event.Metadata {
		ev.Metadata[k] = fmt.Sprint(v)
	}
	return ev, nil
}
