package session

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/protos/envelope"
)

// encoders are shared by the writers of all sessions: a writer holds one
// only while it has answers to send, so idle connections hold none.
var encoders = sync.Pool{New: func() any { return envelope.NewEncoder() }}

// kickWriter makes sure a writer goroutine is draining the queue. The
// writer exists only while answers are queued, so an idle connection costs
// one goroutine (its reader), not two.
func (s *Session) kickWriter() {
	if s.writing.CompareAndSwap(false, true) {
		s.writer.Add(1)
		go s.write()
	}
}

// write drains the queue in FIFO order: each ack leaves only after its
// record's append returned. It exits when the queue is empty; the
// writing flag hands over to the next kickWriter without losing an entry.
func (s *Session) write() {
	defer s.writer.Done()
	enc := encoders.Get().(*envelope.Encoder)
	defer encoders.Put(enc)
	for {
		s.drainQueue(enc)
		s.writing.Store(false)
		// An entry queued after the drain but before the flag was cleared
		// saw a running writer and started none: take it over.
		if len(s.queue) == 0 || !s.writing.CompareAndSwap(false, true) {
			return
		}
	}
}

// maxBatch bounds the answers written in one batch.
const maxBatch = 64

// drainQueue answers what is queued. Answers that are ready one after
// another are written in one batch (see batchConn); the batch goes out
// before the writer would wait for an append, so no answer waits for a
// later record, and when the queue is empty.
func (s *Session) drainQueue(enc *envelope.Encoder) {
	var batch [maxBatch]*pending
	n, held := 0, false
	var deadline time.Time // one clock read per batch
	for {
		var p *pending
		select {
		case p = <-s.queue:
		default:
			s.sendBatch(batch[:n], held)
			return
		}
		if n == maxBatch || (n > 0 && !appendDone(p)) {
			s.sendBatch(batch[:n], held)
			n, held = 0, false
		}
		if !s.prepare(p) {
			continue
		}
		if !held && s.batch != nil {
			s.batch.hold()
			held = true
		}
		if n == 0 {
			deadline = time.Now().Add(s.cfg.WriteTimeout)
		}
		if s.writeAnswer(enc, p, deadline) {
			batch[n] = p
			n++
		}
	}
}

// appendDone reports whether p needs no wait: it has no append, or its
// append is known to be over. A false answer only ends a batch early.
func appendDone(p *pending) bool {
	if p.append == nil {
		return true
	}
	r, ok := p.append.(readyWaiter)
	return ok && r.Ready()
}

// readyWaiter is a Waiter that can tell without blocking that Wait would
// return at once.
type readyWaiter interface {
	Ready() bool
}

// prepare waits for p's append (if any) and reports whether p gets an
// answer: not when the WAL refused its record, nor after a failed write
// (then it only waits, so nothing is left running).
func (s *Session) prepare(p *pending) bool {
	if (p.append != nil || p.err != nil) && !s.awaitAppend(p) {
		return false
	}
	return !s.broken.Load()
}

// writeAnswer writes p's answer frame (held back while the batch is open)
// with the batch's write deadline.
func (s *Session) writeAnswer(enc *envelope.Encoder, p *pending, deadline time.Time) bool {
	var frame []byte
	if p.res.Action == ingest.ActionError {
		frame = enc.Error(p.res.TxID, envelope.ErrorText)
	} else {
		frame = enc.Ack(p.res.TxID, p.res.Topic)
	}
	if err := s.send(frame, deadline); err != nil {
		s.writeFailed(err)
		return false
	}
	return true
}

// sendBatch writes the held-back answers (when held) and counts them once
// they left.
func (s *Session) sendBatch(batch []*pending, held bool) {
	if held {
		if err := s.batch.release(); err != nil {
			if !s.broken.Load() {
				s.writeFailed(err)
			}
			return
		}
	}
	for _, p := range batch {
		s.countAnswer(p)
	}
}

// writeFailed stops answering: a vehicle we cannot answer will resend, so
// reading stops too.
func (s *Session) writeFailed(err error) {
	s.logAttrs(slog.LevelDebug, "socket_write_error", slog.Any("error", err))
	s.broken.Store(true)
	_ = s.ws.SetReadDeadline(time.Now())
}

func (s *Session) countAnswer(p *pending) {
	if p.res.Action == ingest.ActionError {
		s.set.Metrics.ErrorFrame(string(p.res.Reason))
		return
	}
	s.stats.acks.Add(1)
	s.set.Metrics.Ack(p.res.Topic)
}

// awaitAppend waits for p's WAL append and reports whether the record is
// durable.
func (s *Session) awaitAppend(p *pending) bool {
	err := p.err
	if err == nil {
		_, err = p.append.Wait(context.Background())
	}
	if err != nil {
		s.appendFailed(p, err)
		return false
	}
	if s.set.Health != nil {
		s.set.Health.Accepted()
	}
	s.set.Metrics.Appended(time.Since(p.received))
	return true
}

// appendFailed leaves the record unacked (the vehicle resends it) and
// pauses reading; it logs once per pause, not once per record.
func (s *Session) appendFailed(p *pending, err error) {
	reason := appendFailReason(err)
	s.set.Metrics.AppendFailed(reason)
	now := time.Now()
	if s.set.Health != nil {
		s.set.Health.Refused(err, now)
	}
	until := now.Add(s.cfg.WALRetryDelay)
	if time.Unix(0, s.pausedTo.Swap(until.UnixNano())).Before(time.Now()) {
		s.logAttrs(slog.LevelWarn, "wal_append_failed_not_acked", slog.String("reason", reason),
			slog.String("topic", string(p.res.Topic)), slog.Duration("pause", s.cfg.WALRetryDelay),
			slog.Any("error", err))
	}
}

func (s *Session) send(frame []byte, deadline time.Time) error {
	if err := s.ws.SetWriteDeadline(deadline); err != nil {
		return err
	}
	return s.ws.WriteMessage(websocket.BinaryMessage, frame)
}

// startPings sends a ping every third of the idle timeout from a timer
// callback (no goroutine waits between pings). WriteControl may run
// concurrently with the writer.
func (s *Session) startPings() {
	interval := s.cfg.IdleTimeout / 3
	s.pingMu.Lock()
	defer s.pingMu.Unlock()
	s.pinger = time.AfterFunc(interval, func() {
		_ = s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteTimeout))
		s.pingMu.Lock()
		defer s.pingMu.Unlock()
		if !s.pingStopped {
			s.pinger.Reset(interval)
		}
	})
}

func (s *Session) stopPings() {
	s.pingMu.Lock()
	defer s.pingMu.Unlock()
	s.pingStopped = true
	s.pinger.Stop()
}
