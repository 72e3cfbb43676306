package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// taskTransport is one runner's way to Vault, over the shared transport:
//
//   - every request it carries ends when the runner stops (its stop
//     context): consul-template's dependencies make their requests
//     without a context, so a request in flight at Stop would otherwise
//     run until its timeout;
//   - KV mount lookups are answered once per mount (see mountCache).
type taskTransport struct {
	conn vaultConn
	stop context.Context
}

func newTaskTransport(conn vaultConn, stop context.Context) *taskTransport {
	return &taskTransport{conn: conn, stop: stop}
}

// RoundTrip implements http.RoundTripper.
func (t *taskTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.stop.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(req.Context())
	unhook := context.AfterFunc(t.stop, cancel)
	done := func() {
		unhook()
		cancel()
	}
	resp, err := t.conn.mounts.roundTrip(req.WithContext(ctx), t.conn.tr)
	if err != nil {
		done()
		return nil, err
	}
	resp.Body = &doneBody{ReadCloser: resp.Body, done: done}
	return resp, nil
}

// doneBody calls done once the body is closed: the request's context
// must live until then.
type doneBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *doneBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// mountLookupPrefix is the path consul-template reads, for every
// vault.read dependency, to learn whether its path is on a KV version 2
// mount (sys/internal/ui/mounts/<path>).
const mountLookupPrefix = "/v1/sys/internal/ui/mounts/"

// mountCacheTTL bounds how long a mount's answer is reused.
const mountCacheTTL = 5 * time.Minute

// cachedHeader marks an answer served from the mount cache: no request
// reached Vault (the Vault observer does not count it).
const cachedHeader = "X-Tmplrun-Mount-Cache"

// mountCache answers consul-template's mount lookups from the answer
// Vault gave for another path of the same mount. consul-template looks up
// the mount of every secret it reads, in every runner — 50 secrets on one
// KV mount cost 50 lookups and 50 reads, 1,000 tasks reading 3 secrets
// each 3,000 lookups — and Vault's answer depends only on the mount:
// its handler returns the mount's description, or 403 when the token may
// use nothing under the mount (it checks access to the mount, not to the
// path). One lookup per mount and namespace is enough, shared by the
// runners reaching the same Vault: a token that could not use the mount
// gains nothing from a cached answer — consul-template then reads the
// secret's KV v2 path, which that token is refused as well — and the
// answer itself (mount type, version, accessor) never reaches a
// template. Lookups in a namespace whose mount is not known yet go one
// at a time, so a first render that starts 200 dependencies at once asks
// once per mount. Only successful answers whose mount path prefixes the
// requested path are kept (auth mounts report their path without
// "auth/": those are always asked), for mountCacheTTL.
type mountCache struct {
	now func() time.Time

	mu       sync.Mutex
	entries  map[string][]mountAnswer // by namespace
	inflight map[string]chan struct{} // a lookup under way, by namespace
}

type mountAnswer struct {
	mount  string // e.g. "secret/"
	header http.Header
	body   []byte
	at     time.Time
}

func (c *mountCache) roundTrip(req *http.Request, next http.RoundTripper) (*http.Response, error) {
	path, ok := strings.CutPrefix(req.URL.Path, mountLookupPrefix)
	if !ok || req.Method != http.MethodGet {
		return next.RoundTrip(req)
	}
	key := req.Header.Get("X-Vault-Namespace")
	for {
		c.mu.Lock()
		if a, ok := c.find(key, path); ok {
			c.mu.Unlock()
			return a.response(req), nil
		}
		wait, busy := c.inflight[key]
		if !busy {
			if c.inflight == nil {
				c.inflight = map[string]chan struct{}{}
			}
			wait = make(chan struct{})
			c.inflight[key] = wait
			c.mu.Unlock()
			break
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	defer func() {
		c.mu.Lock()
		close(c.inflight[key])
		delete(c.inflight, key)
		c.mu.Unlock()
	}()
	resp, err := next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if mount := mountOf(body); mount != "" && strings.HasSuffix(mount, "/") && strings.HasPrefix(path, mount) {
		c.store(key, mountAnswer{mount: mount, header: resp.Header.Clone(), body: body, at: c.now()})
	}
	return resp, nil
}

// find returns a fresh answer for a mount that path is on. c.mu is held.
func (c *mountCache) find(key, path string) (mountAnswer, bool) {
	for _, a := range c.entries[key] {
		if strings.HasPrefix(path, a.mount) && c.now().Sub(a.at) < mountCacheTTL {
			return a, true
		}
	}
	return mountAnswer{}, false
}

// store keeps a, replacing the answer for the same mount and dropping
// stale ones.
func (c *mountCache) store(key string, a mountAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string][]mountAnswer{}
	}
	for k, as := range c.entries {
		kept := as[:0]
		for _, old := range as {
			if c.now().Sub(old.at) < mountCacheTTL && !(k == key && old.mount == a.mount) {
				kept = append(kept, old)
			}
		}
		if len(kept) == 0 {
			delete(c.entries, k)
		} else {
			c.entries[k] = kept
		}
	}
	c.entries[key] = append(c.entries[key], a)
}

func (a mountAnswer) response(req *http.Request) *http.Response {
	h := a.header.Clone()
	h.Set(cachedHeader, "hit")
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)), Request: req,
	}
}

// mountOf reads the mount path from a mount lookup's answer.
func mountOf(body []byte) string {
	var v struct {
		Data struct {
			Path string `json:"path"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	return v.Data.Path
}
