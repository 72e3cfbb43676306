package vaulttest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// server serves one handler over plain HTTP (or HTTPS, with tlsConfig)
// on a fixed address and can stop and resume serving on that same
// address: while down, connections are refused, and every open
// connection (keep-alive and hijacked WebSocket ones included) is closed.
type server struct {
	handler   http.Handler
	tlsConfig *tls.Config // nil: plain HTTP
	addr      string      // host:port, fixed after the first listen

	mu        sync.Mutex
	srv       *http.Server      // nil while down
	ln        *trackingListener // nil while down
	done      chan struct{}     // closed when the current Serve returns
	timer     *time.Timer       // pending end of an outage
	outageEnd func()            // releases the pending outage's waiters
	outageGen int               // bumped whenever a pending outage is ended
	closed    bool
}

func newServer(h http.Handler) *server { return &server{handler: h} }

// listen starts serving on addr ("127.0.0.1:0" picks a port; the port is
// kept for later restarts).
func (s *server) listen(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upLocked(addr)
}

func (s *server) upLocked(addr string) error {
	if s.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("vaulttest: listen on %s: %w", addr, err)
	}
	s.addr = ln.Addr().String()
	s.ln = &trackingListener{Listener: ln, conns: map[net.Conn]struct{}{}}
	var serve net.Listener = s.ln
	if s.tlsConfig != nil {
		serve = tls.NewListener(s.ln, s.tlsConfig)
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(discard{}, "", 0),
	}
	done := make(chan struct{})
	s.done = done
	go func(srv *http.Server, ln net.Listener) {
		defer close(done)
		_ = srv.Serve(ln)
	}(s.srv, serve)
	return nil
}

// up serves again on the address used before; a no-op when serving. It
// ends a pending outage early.
func (s *server) up() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	s.endOutageLocked()
	return s.upLocked(s.addr)
}

// down stops serving: new connections are refused and open ones closed.
// It cancels a pending outage's return.
func (s *server) down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endOutageLocked()
	s.downLocked()
}

func (s *server) downLocked() {
	if s.srv == nil {
		return
	}
	_ = s.srv.Close() // closes the listener and the connections it knows of
	s.ln.closeAll()   // and the hijacked ones it no longer knows of
	<-s.done
	s.srv, s.ln, s.done = nil, nil, nil
}

// outage takes the server down now and serves again after d. The returned
// channel is closed once it serves again, or when the outage is ended
// early by up, down or close. A failure to listen again is passed to
// report.
func (s *server) outage(d time.Duration, report func(error)) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	back := make(chan struct{})
	if s.closed {
		close(back)
		return back
	}
	s.endOutageLocked()
	s.downLocked()
	var once sync.Once
	end := func() { once.Do(func() { close(back) }) }
	gen := s.outageGen
	s.outageEnd = end
	s.timer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.outageGen != gen { // ended early; end was called then
			return
		}
		s.timer, s.outageEnd = nil, nil
		s.outageGen++
		err := s.upLocked(s.addr)
		end()
		if err != nil {
			report(err)
		}
	})
	return back
}

// endOutageLocked cancels a pending outage return and releases its waiters.
func (s *server) endOutageLocked() {
	s.outageGen++
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if s.outageEnd != nil {
		s.outageEnd()
		s.outageEnd = nil
	}
}

func (s *server) isUp() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil
}

// close stops serving for good.
func (s *server) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.endOutageLocked()
	s.downLocked()
}

// trackingListener remembers every connection it accepted until it is
// closed, so that connections taken over by a handler (WebSockets) can be
// cut too.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	conns := l.conns
	l.conns = map[net.Conn]struct{}{}
	l.mu.Unlock()
	for c := range conns {
		_ = c.(*trackedConn).Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var errClosed = errors.New("vaulttest: Vault is closed")
