package session

import (
	"io"
	"log/slog"
	"sync"
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
		mt, r, err := s.ws.NextReader()
		if err != nil {
			s.reason = s.readFailure(err)
			return
		}
		if mt != websocket.BinaryMessage {
			s.reason = ReasonTextFrame
			return
		}
		if reason, ok := s.readAndHandle(r); !ok {
			s.reason = reason
			return
		}
	}
}

// frameBuffers lend the reader a buffer for one frame at a time, so that a
// connection holds none between frames and a busy one allocates none.
var frameBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledFrame is the largest buffer returned to frameBuffers; the rare
// larger frame's buffer is left to the garbage collector.
const maxPooledFrame = 64 << 10

// readAndHandle reads the message r into a borrowed buffer and handles it.
// It returns the close reason when the session must end.
func (s *Session) readAndHandle(r io.Reader) (CloseReason, bool) {
	bp := frameBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledFrame {
			frameBuffers.Put(bp)
		}
	}()
	frame, err := readMessage((*bp)[:0], r)
	*bp = frame[:0]
	if err != nil {
		return s.readFailure(err), false
	}
	// A frame read while a refusal was being reported waits out the
	// pause too (unprocessed, so unacked if the session drains).
	if !s.waitPause() {
		return ReasonShutdown, false
	}
	s.handle(frame, time.Now())
	return "", true
}

// readMessage appends what r holds to buf, growing it as needed.
func readMessage(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
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
		until := s.pausedTo.Load()
		if until == 0 {
			return true // not paused: no clock read per frame
		}
		wait := time.Until(time.Unix(0, until))
		if wait <= 0 {
			s.pausedTo.CompareAndSwap(until, 0)
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
	if res.Action == ingest.ActionDrop {
		return
	}
	p := &pending{res: res, received: now}
	p.own()
	if res.Action == ingest.ActionStore {
		s.startAppend(p)
	}
	s.queue <- p
	s.kickWriter()
}

// startAppend queues p's record in the WAL from the reader, so that records
// enter the log in the order the vehicle sent them; the writer waits for it
// before acking. The appends of a window of records share group commits.
func (s *Session) startAppend(p *pending) {
	frame := p.res.Frame
	// The WAL owns the frame now; the answer needs only its txid and topic.
	p.res.Frame = nil
	p.append, p.err = s.set.WAL.EnqueueOwned([]byte(s.conn.VIN), frame)
}
