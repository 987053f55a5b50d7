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

func (s *Session) drainQueue(enc *envelope.Encoder) {
	for {
		select {
		case p := <-s.queue:
			s.answer(enc, p)
		default:
			return
		}
	}
}

// answer waits for p's append (if any) and sends its frame, unless an
// earlier write failed (then it only waits, so nothing is left running).
func (s *Session) answer(enc *envelope.Encoder, p *pending) {
	if (p.append != nil || p.err != nil) && !s.awaitAppend(p) {
		return
	}
	if s.broken.Load() {
		return
	}
	var frame []byte
	if p.res.Action == ingest.ActionError {
		frame = enc.Error(p.res.TxID, envelope.ErrorText)
	} else {
		frame = enc.Ack(p.res.TxID, p.res.Topic)
	}
	if err := s.send(frame); err != nil {
		s.log.Debug("socket_write_error", slog.Any("error", err))
		s.broken.Store(true)
		// Stop reading too: a vehicle we cannot answer will resend anyway.
		_ = s.ws.SetReadDeadline(time.Now())
		return
	}
	s.countAnswer(p)
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
	s.set.Metrics.Appended(time.Since(p.received))
	return true
}

// appendFailed leaves the record unacked (the vehicle resends it) and
// pauses reading; it logs once per pause, not once per record.
func (s *Session) appendFailed(p *pending, err error) {
	reason := appendFailReason(err)
	s.set.Metrics.AppendFailed(reason)
	until := time.Now().Add(s.cfg.WALRetryDelay)
	if time.Unix(0, s.pausedTo.Swap(until.UnixNano())).Before(time.Now()) {
		s.log.Warn("wal_append_failed_not_acked", slog.String("reason", reason),
			slog.String("topic", p.res.Record.GetTopic()), slog.Duration("pause", s.cfg.WALRetryDelay),
			slog.Any("error", err))
	}
}

func (s *Session) send(frame []byte) error {
	if err := s.ws.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout)); err != nil {
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
