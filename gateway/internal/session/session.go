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

// Appender stores records durably. Append waits for the record;
// EnqueueOwned queues a record built in place in call order (so a window of
// records keeps the order in which the vehicle sent them) and returns a
// Waiter. WAL adapts a *wal.Log.
type Appender interface {
	Append(ctx context.Context, key, data []byte) (wal.Position, error)
	// EnqueueOwned takes buf over: wal.FrameReserve bytes of room, then the
	// record (see wal.Log.EnqueueOwned).
	EnqueueOwned(key, buf []byte) (Waiter, error)
}

// Waiter waits for an enqueued record to be durable.
type Waiter interface {
	Wait(ctx context.Context) (wal.Position, error)
}

// WAL adapts a *wal.Log to Appender.
func WAL(l *wal.Log) Appender { return walAppender{l} }

type walAppender struct{ *wal.Log }

func (w walAppender) EnqueueOwned(key, buf []byte) (Waiter, error) {
	q, err := w.Log.EnqueueOwned(key, buf)
	if err != nil {
		return nil, err
	}
	return walWaiter{q}, nil
}

// walWaiter adds Ready to a *wal.Pending.
type walWaiter struct{ *wal.Pending }

// Ready reports whether the record's commit is over (Wait returns at once).
func (w walWaiter) Ready() bool {
	select {
	case <-w.Done():
		return true
	default:
		return false
	}
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

// Health learns the outcome of every append; *readiness.Tracker
// implements it.
type Health interface {
	// Accepted reports a durable append.
	Accepted()
	// Refused reports an append the WAL refused with err.
	Refused(err error, now time.Time)
}

// Settings are a session's collaborators. Health may be nil.
type Settings struct {
	Processor Processor
	WAL       Appender
	Metrics   *gwmetrics.Metrics
	Logger    *slog.Logger
	Health    Health
}

// Session is one vehicle connection.
type Session struct {
	ws    *websocket.Conn
	conn  ingest.Conn
	cfg   Config
	set   Settings
	queue chan *pending // made by the reader at the first frame
	batch *batchConn    // nil unless the websocket came from Upgrade

	writing     atomic.Bool    // a writer goroutine is draining queue
	writer      sync.WaitGroup // the writer goroutines
	broken      atomic.Bool    // a write failed: answers are no longer sent
	pingMu      sync.Mutex
	pinger      *time.Timer
	pingStopped bool

	drainOnce    sync.Once
	deadline     sync.Mutex // orders draining against read-deadline updates; guards readDeadline
	readDeadline time.Time  // the idle deadline last set by extendDeadline
	draining     atomic.Bool
	pausedTo     atomic.Int64 // unix ns until which the reader must not read; 0 when not paused
	reason       CloseReason  // written by the reader before Run waits for the writer
	stats        stats
}

// pending is one frame's answer waiting its turn in the FIFO.
type pending struct {
	res      ingest.Result
	received time.Time
	append   Waiter // nil unless the frame's record is being appended
	err      error  // the enqueue's error, when it failed
	// answer holds the answer's txid and topic when they fit, so that
	// res.TxID and res.Topic outlive the frame (see own).
	answer [answerInline]byte
}

// answerInline fits a UUID txid and any topic the reference knows.
const answerInline = 64

// own copies res.TxID and res.Topic, which point into the frame or the
// record, into p: the frame's buffer is reused for the next frame and the
// record is dropped once it is in the WAL.
func (p *pending) own() {
	txid, topic := p.res.TxID, p.res.Topic
	buf := p.answer[:0]
	if n := len(txid) + len(topic); n > len(p.answer) {
		buf = make([]byte, 0, n)
	}
	buf = append(append(buf, txid...), topic...)
	p.res.TxID, p.res.Topic = buf[:len(txid):len(txid)], buf[len(txid):]
}

// New wraps an upgraded connection. ws must not have been read yet.
func New(ws *websocket.Conn, conn ingest.Conn, cfg Config, set Settings) *Session {
	ws.SetReadLimit(ReadLimit)
	bc, _ := ws.NetConn().(*batchConn)
	return &Session{ws: ws, conn: conn, cfg: cfg, set: set, batch: bc}
}

// logAttrs logs msg with the connection's VIN and id. The attributes are
// added per line rather than held in a derived logger: sessions log rarely,
// and an idle connection then keeps no preformatted logger of its own.
func (s *Session) logAttrs(level slog.Level, msg string, attrs ...slog.Attr) {
	ctx := context.Background()
	if !s.set.Logger.Enabled(ctx, level) {
		return
	}
	all := make([]slog.Attr, 0, len(attrs)+2)
	all = append(all, slog.String("vin", s.conn.VIN), slog.String("connection_id", s.conn.ConnectionID))
	s.set.Logger.LogAttrs(ctx, level, msg, append(all, attrs...)...)
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

// deadlineStep returns how far the idle deadline must move before it is
// set again: a busy connection renews it at most once per step rather than
// once per frame, and an idle one is closed between IdleTimeout-step and
// IdleTimeout after its last frame or pong. The step is a sixteenth of the
// idle timeout, at most a second.
func (s *Session) deadlineStep() time.Duration {
	return min(s.cfg.IdleTimeout/16, time.Second)
}

// extendDeadline renews the idle deadline unless the session is draining.
func (s *Session) extendDeadline() error {
	s.deadline.Lock()
	defer s.deadline.Unlock()
	if s.draining.Load() {
		return nil
	}
	d := time.Now().Add(s.cfg.IdleTimeout)
	if d.Sub(s.readDeadline) < s.deadlineStep() {
		return nil
	}
	s.readDeadline = d
	return s.ws.SetReadDeadline(d)
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
	s.logAttrs(slog.LevelInfo, "socket_disconnected", slog.String("reason", string(s.reason)),
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
