package session

import (
	"log/slog"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
)

// read is the reader loop. It owns s.reason.
func (s *Session) read() {
	for {
		if !s.waitPause() {
			s.reason = ReasonShutdown
			return
		}
		if err := s.extendDeadline(); err != nil {
			s.reason = ReasonReadFailed
			return
		}
		mt, frame, err := s.ws.ReadMessage()
		if err != nil {
			s.reason = s.readFailure(err)
			return
		}
		if mt != websocket.BinaryMessage {
			s.reason = ReasonTextFrame
			return
		}
		// A frame read while a refusal was being reported waits out the
		// pause too (unprocessed, so unacked if the session drains).
		if !s.waitPause() {
			s.reason = ReasonShutdown
			return
		}
		s.handle(frame, time.Now())
	}
}

func (s *Session) readFailure(err error) CloseReason {
	if s.draining.Load() {
		return ReasonShutdown
	}
	reason := classify(err)
	if reason == ReasonReadFailed {
		s.logAttrs(slog.LevelDebug, "socket_read_error", slog.Any("error", err))
	}
	return reason
}

// waitPause sleeps while the WAL asked this session to slow down. It
// returns false if the session is draining.
func (s *Session) waitPause() bool {
	for {
		if s.draining.Load() {
			return false
		}
		wait := time.Until(time.Unix(0, s.pausedTo.Load()))
		if wait <= 0 {
			return true
		}
		time.Sleep(min(wait, 100*time.Millisecond))
	}
}

// handle decides one frame and queues its answer (blocking when
// max_in_flight answers are already waiting).
func (s *Session) handle(frame []byte, now time.Time) {
	if s.queue == nil {
		// Made on demand: a connection that never sends holds no queue.
		s.queue = make(chan *pending, s.cfg.MaxInFlight)
	}
	s.stats.frames.Add(1)
	s.stats.bytes.Add(int64(len(frame)))
	s.set.Metrics.Received(len(frame))
	res := s.set.Processor.Process(frame, &s.conn, now)
	p := &pending{res: res, received: now}
	switch res.Action {
	case ingest.ActionDrop:
		return
	case ingest.ActionStore:
		if !s.startAppend(p) {
			return
		}
	}
	s.queue <- p
	s.kickWriter()
}

// startAppend queues p's record in the WAL from the reader, so that records
// enter the log in the order the vehicle sent them; the writer waits for it
// before acking. The appends of a window of records share group commits.
func (s *Session) startAppend(p *pending) bool {
	data, err := marshalRecord(&p.res)
	if err != nil {
		s.logAttrs(slog.LevelError, "record_encode_failed", slog.String("topic", p.res.Record.GetTopic()), slog.Any("error", err))
		return false
	}
	p.append, p.err = s.set.WAL.Enqueue([]byte(s.conn.VIN), data)
	return true
}
