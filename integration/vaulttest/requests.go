package vaulttest

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// internalHeader marks the harness's own requests so that they are not
// counted.
const internalHeader = "X-Vaulttest-Internal"

// Request names one kind of request Vault served: the HTTP method
// ("LIST" also for GET with ?list=true) and Vault's API path without the
// leading "/v1/", e.g. "secret/data/web/config".
type Request struct {
	Method string
	Path   string
}

// Requests counts requests by method and path.
type Requests map[Request]int

// Total is the number of requests counted.
func (r Requests) Total() int {
	n := 0
	for _, c := range r {
		n += c
	}
	return n
}

// Path is the number of requests to path, whatever their method.
func (r Requests) Path(path string) int {
	n := 0
	for k, c := range r {
		if k.Path == path {
			n += c
		}
	}
	return n
}

// Prefix is the number of requests whose path starts with prefix.
func (r Requests) Prefix(prefix string) int {
	n := 0
	for k, c := range r {
		if strings.HasPrefix(k.Path, prefix) {
			n += c
		}
	}
	return n
}

// Reads is the number of GET requests to path.
func (r Requests) Reads(path string) int { return r[Request{Method: http.MethodGet, Path: path}] }

// String lists the counts one per line, sorted by path then method.
func (r Requests) String() string {
	keys := make([]Request, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Path != keys[j].Path {
			return keys[i].Path < keys[j].Path
		}
		return keys[i].Method < keys[j].Method
	})
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k.Method)
		b.WriteByte(' ')
		b.WriteString(k.Path)
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(r[k]))
		b.WriteByte('\n')
	}
	return b.String()
}

// counter is an http.Handler that counts every request it passes on,
// except the harness's own.
type counter struct {
	next http.Handler
	mu   sync.Mutex
	n    Requests
}

func newCounter(next http.Handler) *counter { return &counter{next: next, n: Requests{}} }

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(internalHeader) == "" {
		c.count(requestOf(r))
	}
	c.next.ServeHTTP(w, r)
}

func (c *counter) count(k Request) {
	c.mu.Lock()
	c.n[k]++
	c.mu.Unlock()
}

func requestOf(r *http.Request) Request {
	method := r.Method
	if method == http.MethodGet && r.URL.Query().Get("list") == "true" {
		method = "LIST"
	}
	return Request{Method: method, Path: strings.TrimPrefix(r.URL.Path, "/v1/")}
}

func (c *counter) snapshot() Requests {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(Requests, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

func (c *counter) reset() {
	c.mu.Lock()
	c.n = Requests{}
	c.mu.Unlock()
}
