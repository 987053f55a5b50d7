package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/gateway/internal/gwmetrics"
	"github.com/fleetrelay/fleetrelay/gateway/internal/identity"
	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/gateway/internal/registry"
	"github.com/fleetrelay/fleetrelay/gateway/internal/session"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/obs"
)

// maxHeaderBytes bounds the upgrade request's headers; vehicles send a few
// hundred bytes (RFC 9440 certificate headers from a proxy fit too).
const maxHeaderBytes = 32 << 10

// Config holds the listener's limits.
type Config struct {
	Session           session.Config
	MaxConnections    int
	ReadHeaderTimeout time.Duration
}

// Processor is the part of *ingest.Processor the server uses.
type Processor interface {
	session.Processor
	Connectivity(c *ingest.Conn, status vehiclepb.ConnectivityEvent, now time.Time) *walpb.Record
}

// Deps are the server's collaborators.
type Deps struct {
	TLS       *tls.Config
	Resolver  *identity.Resolver
	Processor Processor
	WAL       session.Appender
	Metrics   *gwmetrics.Metrics
	Logger    *slog.Logger
	// Health, if not nil, learns the outcome of every WAL append.
	Health session.Health
}

// Server serves vehicles.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	http     *http.Server
	upgrader websocket.Upgrader
	reg      *registry.Registry
	active   atomic.Int64

	mu       sync.Mutex // guards closing and sessions.Add
	closing  bool
	sessions sync.WaitGroup
}

// New builds a server; Serve starts it.
func New(cfg Config, deps Deps) *Server {
	deps.Logger = obs.OrDiscard(deps.Logger)
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, reg: registry.New()}
	s.upgrader = websocket.Upgrader{
		// Vehicles send no Origin header; browsers cannot present a
		// vehicle certificate, so origin checks add nothing here.
		CheckOrigin: func(*http.Request) bool { return true },
		// A small read buffer of its own instead of net/http's 4 KiB one:
		// frames are a few hundred bytes and idle connections are many.
		// A larger frame's payload is read past the buffer, straight into
		// the message.
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		// Pooled write buffers: an idle connection holds none.
		WriteBufferPool: &sync.Pool{},
	}
	mux := http.NewServeMux()
	mux.Handle("/status", obs.StatusHandler("mtls ok"))
	mux.HandleFunc("/", s.serveWebsocket)
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadHeaderTimeout,
		WriteTimeout:      cfg.Session.WriteTimeout,
		IdleTimeout:       cfg.Session.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// Handshake failures from scanners are frequent: debug level only.
		ErrorLog:     slog.NewLogLogger(deps.Logger.Handler(), slog.LevelDebug),
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	return s
}

// Serve accepts connections on ln (a plain TCP listener; TLS is added
// here) until Shutdown. It returns http.ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(tls.NewListener(ln, s.deps.TLS))
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return err
}

// Registry exposes the connection registry (online vehicles).
func (s *Server) Registry() *registry.Registry { return s.reg }

// Shutdown stops accepting connections and drains every session. It
// returns ctx's error if sessions are still running when ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	httpDone := make(chan error, 1)
	go func() { httpDone <- s.http.Shutdown(ctx) }()
	s.reg.DrainAll()
	sessionsDone := make(chan struct{})
	go func() {
		s.sessions.Wait()
		close(sessionsDone)
	}()
	select {
	case <-sessionsDone:
	case <-ctx.Done():
		return fmt.Errorf("drain sessions: %w", ctx.Err())
	}
	if err := <-httpDone; err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}

// beginSession reserves a session slot unless the server is closing.
func (s *Server) beginSession() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.sessions.Add(1)
	return true
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// ctx is the context of WAL appends made by the server itself: they must
// finish even during shutdown (the WAL is closed after the drain).
func (s *Server) ctx() context.Context { return context.Background() }
