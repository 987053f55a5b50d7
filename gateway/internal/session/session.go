package session

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/gateway/internal/gwmetrics"
	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/wal"
)

// ReadLimit is the largest websocket message read; a larger one closes the
// connection with 1009 (message too big). It sits above the reference's
// 1,000,000-byte record limit on purpose: a frame over that limit but under
// this one is read and answered with the reference's error frame (ingest
// checks the record limit), exactly as the reference answers it, while a
// peer can never make the gateway buffer more than this per connection.
const ReadLimit = 1<<20 + 64<<10

// Appender stores records durably. Append waits for the record; Enqueue
// queues it in call order (so a window of records keeps the order in which
// the vehicle sent them) and returns a Waiter. WAL adapts a *wal.Log.
type Appender interface {
	Append(ctx context.Context, key, data []byte) (wal.Position, error)
	Enqueue(key, data []byte) (Waiter, error)
}

// Waiter waits for an enqueued record to be durable.
type Waiter interface {
	Wait(ctx context.Context) (wal.Position, error)
}

// WAL adapts a *wal.Log to Appender.
func WAL(l *wal.Log) Appender { return walAppender{l} }

type walAppender struct{ *wal.Log }

func (w walAppender) Enqueue(key, data []byte) (Waiter, error) {
	q, err := w.Log.Enqueue(key, data)
	if err != nil {
		return nil, err
	}
	return q, nil
}

// Processor decides frames; *ingest.Processor implements it.
type Processor interface {
	Process(frame []byte, c *ingest.Conn, now time.Time) ingest.Result
}

// Config holds a session's limits.
type Config struct {
	IdleTimeout   time.Duration
	WriteTimeout  time.Duration
	MaxInFlight   int
	WALRetryDelay time.Duration
}

// Settings are a session's collaborators.
type Settings struct {
	Processor Processor
	WAL       Appender
	Metrics   *gwmetrics.Metrics
	Logger    *slog.Logger
}

// Session is one vehicle connection.
type Session struct {
	ws    *websocket.Conn
	conn  ingest.Conn
	cfg   Config
	set   Settings
	log   *slog.Logger
	queue chan *pending

	writing     atomic.Bool    // a writer goroutine is draining queue
	writer      sync.WaitGroup // the writer goroutines
	broken      atomic.Bool    // a write failed: answers are no longer sent
	pingMu      sync.Mutex
	pinger      *time.Timer
	pingStopped bool

	drainOnce sync.Once
	deadline  sync.Mutex // orders draining against read-deadline updates
	draining  atomic.Bool
	pausedTo  atomic.Int64 // unix ns until which the reader must not read
	reason    CloseReason  // written by the reader before Run waits for the writer
	stats     stats
}

// pending is one frame's answer waiting its turn in the FIFO.
type pending struct {
	res      ingest.Result
	received time.Time
	append   Waiter // nil unless the frame's record is being appended
	err      error  // the enqueue's error, when it failed
}

// New wraps an upgraded connection. ws must not have been read yet.
func New(ws *websocket.Conn, conn ingest.Conn, cfg Config, set Settings) *Session {
	ws.SetReadLimit(ReadLimit)
	log := set.Logger.With(slog.String("vin", conn.VIN), slog.String("connection_id", conn.ConnectionID))
	return &Session{ws: ws, conn: conn, cfg: cfg, set: set, log: log, queue: make(chan *pending, cfg.MaxInFlight)}
}

// Conn returns the connection's ingest identity.
func (s *Session) Conn() *ingest.Conn { return &s.conn }

// Run serves the connection until it ends and returns why it ended. The
// websocket is closed when Run returns.
func (s *Session) Run() CloseReason {
	s.ws.SetPongHandler(func(string) error { return s.extendDeadline() })
	s.startPings()
	s.read()
	s.writer.Wait()
	s.stopPings()
	s.finish()
	return s.reason
}

// Drain asks the session to stop reading, answer what is in flight and
// close with a going-away frame. It returns at once; Run returns when done.
func (s *Session) Drain() {
	s.drainOnce.Do(func() {
		s.deadline.Lock()
		defer s.deadline.Unlock()
		s.draining.Store(true)
		// Wake a blocked ReadMessage; the reader sees draining and stops.
		_ = s.ws.SetReadDeadline(time.Now())
	})
}

// extendDeadline renews the idle deadline unless the session is draining.
func (s *Session) extendDeadline() error {
	s.deadline.Lock()
	defer s.deadline.Unlock()
	if s.draining.Load() {
		return nil
	}
	return s.ws.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
}

// finish closes the socket: with a 1001 close frame when draining, abruptly
// after a text frame (as the reference), with a normal closure otherwise.
func (s *Session) finish() {
	switch s.reason {
	case ReasonShutdown:
		s.closeFrame(websocket.CloseGoingAway, "server shutting down")
	case ReasonTooBig:
		s.closeFrame(websocket.CloseMessageTooBig, "")
	case ReasonIdle:
		s.closeFrame(websocket.CloseGoingAway, "idle timeout")
	}
	_ = s.ws.Close()
	s.log.Info("socket_disconnected", slog.String("reason", string(s.reason)),
		slog.Int64("records", s.stats.frames.Load()), slog.Int64("bytes", s.stats.bytes.Load()),
		slog.Int64("acks", s.stats.acks.Load()))
}

// closeGrace bounds how long a closing session keeps reading (and
// discarding) after its close frame, so that the close frame and the last
// acks reach the vehicle before the TCP connection ends. Closing with
// unread input would reset the connection and could destroy them.
const closeGrace = time.Second

// closeFrame sends a close frame, then lingers: it discards what the
// vehicle still sends until it closes or closeGrace passes. The websocket
// reader has stopped by then, so the raw connection is read.
func (s *Session) closeFrame(code int, text string) {
	msg := websocket.FormatCloseMessage(code, text)
	if err := s.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(s.cfg.WriteTimeout)); err != nil {
		return
	}
	nc := s.ws.NetConn()
	if err := nc.SetReadDeadline(time.Now().Add(closeGrace)); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, nc)
}

type stats struct {
	frames, bytes, acks atomic.Int64
}

// appendFailReason is the metric label for a refused append.
func appendFailReason(err error) string {
	switch {
	case errors.Is(err, wal.ErrFull):
		return "full"
	case errors.Is(err, wal.ErrClosed):
		return "closed"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	default:
		return "error"
	}
}

// marshalRecord encodes a record for the WAL.
func marshalRecord(res *ingest.Result) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: false}.Marshal(res.Record)
}
