package session

import (
	"log/slog"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/protos/envelope"
)

// write is the writer loop: answers leave in FIFO order, each ack only
// after its record's append returned. Pings go out while it waits.
func (s *Session) write() {
	enc := newEncoder()
	ping := time.NewTicker(s.cfg.IdleTimeout / 3)
	defer ping.Stop()
	broken := false
	for {
		select {
		case p, ok := <-s.queue:
			if !ok {
				return
			}
			if !s.answer(enc, p, ping.C, broken) {
				broken = true
			}
		case <-ping.C:
			s.ping()
		}
	}
}

// answer waits for p's append (if any) and sends its frame. A broken
// connection still waits for appends, so that nothing is left running,
// but sends nothing. It returns false once a write failed.
func (s *Session) answer(enc *envelope.Encoder, p *pending, ping <-chan time.Time, broken bool) bool {
	if p.done != nil && !s.awaitAppend(p, ping) {
		return !broken
	}
	if broken {
		return false
	}
	var frame []byte
	if p.res.Action == ingest.ActionError {
		frame = enc.Error(p.res.TxID, envelope.ErrorText)
	} else {
		frame = enc.Ack(p.res.TxID, p.res.Topic)
	}
	if err := s.send(frame); err != nil {
		s.log.Debug("socket_write_error", slog.Any("error", err))
		// Stop reading too: a vehicle we cannot answer will resend anyway.
		_ = s.ws.SetReadDeadline(time.Now())
		return false
	}
	s.countAnswer(p)
	return true
}

func (s *Session) countAnswer(p *pending) {
	if p.res.Action == ingest.ActionError {
		s.set.Metrics.ErrorFrame(string(p.res.Reason))
		return
	}
	s.stats.acks.Add(1)
	s.set.Metrics.Ack(p.res.Topic)
}

// awaitAppend waits for p's WAL append, serving pings meanwhile. It reports
// whether the record is durable.
func (s *Session) awaitAppend(p *pending, ping <-chan time.Time) bool {
	for {
		select {
		case err := <-p.done:
			if err != nil {
				s.appendFailed(p, err)
				return false
			}
			s.set.Metrics.Appended(time.Since(p.received))
			return true
		case <-ping:
			s.ping()
		}
	}
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

func (s *Session) ping() {
	_ = s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteTimeout))
}
