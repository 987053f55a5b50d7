package ackserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/test/corkconn"
)

// Limits of one connection.
const (
	// DefaultReadLimit bounds a frame; the reference server rejects records
	// above 1,000,000 bytes, so a little more lets such frames be answered.
	DefaultReadLimit = 1 << 20
	// writeTimeout bounds one ack write, as the reference server does (10 s).
	writeTimeout = 10 * time.Second
	// bufferSize is the websocket read and write buffer size.
	bufferSize = 16 << 10
)

// Config holds the fault options. The zero value acks every frame.
type Config struct {
	// DropFirst suppresses the first N acks the server would send (counted
	// across all connections).
	DropFirst int
	// DropEvery suppresses every Kth ack (K > 0), counted across all connections.
	DropEvery int
	// RejectEvery answers every Kth frame with an error frame instead of an ack.
	RejectEvery int
	// CloseAfter closes each connection, without answering, when it delivers
	// its Nth frame (0 = never).
	CloseAfter int
	// ReadLimit is the largest frame accepted; 0 means DefaultReadLimit.
	ReadLimit int64
}

// Validate checks the options.
func (c Config) Validate() error {
	var errs []error
	for _, o := range []struct {
		name  string
		value int64
	}{
		{"drop_first", int64(c.DropFirst)}, {"drop_every", int64(c.DropEvery)},
		{"reject_every", int64(c.RejectEvery)}, {"close_after", int64(c.CloseAfter)}, {"read_limit", c.ReadLimit},
	} {
		if o.value < 0 {
			errs = append(errs, fmt.Errorf("ackserver: %s must not be negative, got %d", o.name, o.value))
		}
	}
	return errors.Join(errs...)
}

// Stats are the server's counters since it was created.
type Stats struct {
	Connections int64 // websocket connections accepted
	Active      int64 // connections open now
	Frames      int64 // binary frames received
	Acks        int64 // ack frames sent
	Dropped     int64 // acks suppressed by DropFirst/DropEvery
	Rejected    int64 // error frames sent
}

// Server is a running ack server. Its methods are safe for concurrent use.
type Server struct {
	cfg      Config
	tls      *tls.Config
	log      *slog.Logger
	upgrader websocket.Upgrader

	http     *http.Server
	listener net.Listener
	serveErr chan error

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	conns   map[*websocket.Conn]struct{}
	closing bool           // set once by shutdown; no connection is tracked after it
	wg      sync.WaitGroup // one per tracked connection

	connections, active, frames, acks, dropped, rejected atomic.Int64
	answered                                             atomic.Int64 // frames that reached the ack/drop decision
}

// ServerTLS returns a TLS configuration that presents cert and requires a
// client certificate chaining to clientCAs, as the reference server does.
func ServerTLS(cert tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
}

// New creates a server; it serves nothing until Start. A nil logger discards logs.
func New(cfg Config, tlsConfig *tls.Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tlsConfig == nil || len(tlsConfig.Certificates) == 0 {
		return nil, errors.New("ackserver: TLS configuration without a server certificate")
	}
	if cfg.ReadLimit == 0 {
		cfg.ReadLimit = DefaultReadLimit
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, tls: tlsConfig, log: log, conns: map[*websocket.Conn]struct{}{}}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  bufferSize,
		WriteBufferSize: bufferSize,
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	return s, nil
}

// Start listens on addr (host:port; port 0 picks a free one) and serves in
// the background until Close.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ackserver: listen %s: %w", addr, err)
	}
	s.listener = ln
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.serveErr = make(chan error, 1)
	go func() { s.serveErr <- s.http.Serve(corkListener{tls.NewListener(ln, s.tls)}) }()
	s.log.Info("ackserver_listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the listening address; nil before Start.
func (s *Server) Addr() net.Addr {
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// URL is the websocket URL of the listening address.
func (s *Server) URL() string {
	return "wss://" + s.Addr().String() + "/"
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Connections: s.connections.Load(), Active: s.active.Load(), Frames: s.frames.Load(),
		Acks: s.acks.Load(), Dropped: s.dropped.Load(), Rejected: s.rejected.Load(),
	}
}

// CloseConnections closes every open vehicle connection abruptly (no close
// frame); the server keeps accepting new ones.
func (s *Server) CloseConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.NetConn().Close()
	}
}

// Close stops listening, closes every connection and waits for their
// handlers to return. Later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Server) shutdown() error {
	if s.http == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx) // hijacked websocket connections are not covered
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.CloseConnections()
	s.wg.Wait()
	if serr := <-s.serveErr; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("ackserver: close: %w", err)
	}
	return nil
}

// track registers a connection; it reports false once the server is closing.
// corkListener wraps accepted connections (above TLS) so that the acks of
// a burst of frames leave in one TLS record when the connection waits for
// more input. The HTTP server then sees no *tls.Conn, which the ack server
// does not need.
type corkListener struct {
	net.Listener
}

func (l corkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return corkconn.NewReadFlush(c), nil
}

func (s *Server) track(c *websocket.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.connections.Add(1)
	s.active.Add(1)
	return true
}

func (s *Server) untrack(c *websocket.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	s.active.Add(-1)
	s.wg.Done()
}
