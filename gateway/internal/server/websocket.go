package server

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/fleetrelay/fleetrelay/gateway/internal/identity"
	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/gateway/internal/session"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"google.golang.org/protobuf/proto"
)

// Refusal reasons decided here rather than by identity.
const (
	refusedMaxConnections = "max_connections"
	refusedShuttingDown   = "shutting_down"
)

// serveWebsocket admits and upgrades one vehicle connection, then hands it
// to a fresh goroutine and returns. The handler's goroutine did the TLS
// handshake and grew a deep stack doing it; returning lets net/http drop it
// and the request, so an idle connection keeps only a small reader stack.
func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	if s.active.Add(1) > int64(s.cfg.MaxConnections) {
		s.active.Add(-1)
		s.refuse(w, r, refusedMaxConnections, http.StatusServiceUnavailable, nil)
		return
	}
	id, ok := s.admit(w, r)
	if !ok || !s.beginSession() {
		if ok {
			s.refuse(w, r, refusedShuttingDown, http.StatusServiceUnavailable, nil)
		}
		s.active.Add(-1)
		return
	}
	ws, err := session.Upgrade(&s.upgrader, w, r)
	if err != nil {
		// The upgrader already answered (400 Bad Request, as the reference).
		s.log.Debug("websocket_promotion_error", slog.String("vin", id.VIN), slog.Any("error", err))
		s.endSession()
		return
	}
	conn := ingest.Conn{
		VIN: id.VIN, ClientType: id.ClientType,
		DeviceClientVersion: r.Header.Get("Version"),
		NetworkInterface:    r.Header.Get("X-Network-Interface"),
		ConnectionID:        connectionID(r.Header.Get("X-TXID")),
	}
	sess := session.New(ws, conn, s.cfg.Session, session.Settings{
		Processor: s.deps.Processor, WAL: s.deps.WAL, Metrics: s.deps.Metrics, Logger: s.log, Health: s.deps.Health,
	})
	s.logConnected(conn, r)
	s.open(sess)
	go func() {
		defer s.endSession()
		s.serve(sess)
	}()
}

func (s *Server) endSession() {
	s.active.Add(-1)
	s.sessions.Done()
}

func (s *Server) logConnected(conn ingest.Conn, r *http.Request) {
	s.log.Info("socket_connected", slog.String("vin", conn.VIN), slog.String("connection_id", conn.ConnectionID),
		slog.String("client_type", conn.ClientType), slog.String("network_interface", conn.NetworkInterface),
		slog.String("device_client_version", conn.DeviceClientVersion), slog.String("remote_addr", r.RemoteAddr),
		slog.String("user_agent", r.UserAgent()), slog.String("x_forwarded_for", r.Header.Get("X-Forwarded-For")))
}

// admit resolves the client's identity; a refused client is answered here.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (identity.Identity, bool) {
	id, err := s.deps.Resolver.Resolve(r)
	if err == nil {
		return id, true
	}
	var refused *identity.RefusedError
	if !errors.As(err, &refused) {
		refused = &identity.RefusedError{Reason: identity.ReasonChainInvalid, Status: http.StatusForbidden, Err: err}
	}
	s.refuse(w, r, string(refused.Reason), refused.Status, err)
	return identity.Identity{}, false
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, reason string, status int, err error) {
	s.deps.Metrics.Refused(reason)
	attrs := []any{slog.String("reason", reason), slog.String("remote_addr", r.RemoteAddr), slog.Int("status", status)}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		attrs = append(attrs, slog.String("subject_cn", r.TLS.PeerCertificates[0].Subject.CommonName))
	}
	if err != nil {
		attrs = append(attrs, slog.Any("error", err))
	}
	s.log.Warn("connection_refused", attrs...)
	http.Error(w, http.StatusText(status), status)
}

// open registers the session and emits its CONNECTED record. It runs on
// the handler's goroutine, whose stack the handshake already grew, so that
// the session's own goroutine starts small and, while the vehicle sends
// nothing, stays small (a goroutine blocked in a read cannot shrink its
// stack below four times what the blocked call chain uses).
func (s *Server) open(sess *session.Session) {
	conn := sess.Conn()
	s.deps.Metrics.ConnOpened()
	if s.reg.Add(conn.VIN, sess) {
		s.deps.Metrics.OnlineDelta(1)
		s.log.Info("vehicle_online", slog.String("vin", conn.VIN))
	}
	if s.isClosing() {
		sess.Drain()
	}
	s.connectivity(conn, vehiclepb.ConnectivityEvent_CONNECTED)
}

// serve runs an opened session until it ends and cleans up.
func (s *Server) serve(sess *session.Session) {
	conn := sess.Conn()
	reason := sess.Run()
	s.connectivity(conn, vehiclepb.ConnectivityEvent_DISCONNECTED)
	if s.reg.Remove(conn.VIN, sess) {
		s.deps.Metrics.OnlineDelta(-1)
		s.log.Info("vehicle_offline", slog.String("vin", conn.VIN))
	}
	s.deps.Metrics.ConnClosed(string(reason))
}

// connectivity appends a generated connectivity record, if that topic is
// configured. These records are never acked, so a failure is only logged.
func (s *Server) connectivity(conn *ingest.Conn, status vehiclepb.ConnectivityEvent) {
	rec := s.deps.Processor.Connectivity(conn, status, time.Now())
	if rec == nil {
		return
	}
	data, err := proto.Marshal(rec)
	if err == nil {
		_, err = s.deps.WAL.Append(s.ctx(), []byte(conn.VIN), data)
		s.appendOutcome(err)
	}
	if err != nil {
		s.log.Error("connectivity_record_not_stored", slog.String("vin", conn.VIN),
			slog.String("status", status.String()), slog.Any("error", err))
	}
}

// appendOutcome tells Health how an append of the server's own ended.
func (s *Server) appendOutcome(err error) {
	switch {
	case s.deps.Health == nil:
	case err == nil:
		s.deps.Health.Accepted()
	default:
		s.deps.Health.Refused(err, time.Now())
	}
}

// connectionID is X-TXID when it is a UUID, else a random UUID (the
// reference's rule).
func connectionID(txid string) string {
	if id, err := uuid.Parse(txid); err == nil {
		return id.String()
	}
	return uuid.NewString()
}
