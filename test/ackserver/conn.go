package ackserver

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/protos/envelope"
)

// Errors that end a connection.
var (
	// ErrTextFrame: vehicles only send binary messages; like the reference
	// server, a text message ends the connection.
	ErrTextFrame = errors.New("ackserver: text message")
	// errCloseAfter ends a connection on its Config.CloseAfter-th frame.
	errCloseAfter = errors.New("ackserver: close_after reached")
)

// ServeHTTP upgrades the request to a websocket and acks its frames until
// the connection ends.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("websocket_upgrade_failed", "remote", r.RemoteAddr, "err", err)
		return // Upgrade has answered the request
	}
	if !s.track(conn) {
		_ = conn.Close()
		return
	}
	defer s.untrack(conn)
	err = s.serveConn(conn)
	_ = conn.Close()
	s.log.Debug("connection_closed", "remote", r.RemoteAddr, "err", err)
}

// serveConn runs the read loop: one answer per binary frame, written
// synchronously, as the reference server's socket does.
func (s *Server) serveConn(c *websocket.Conn) error {
	c.SetReadLimit(s.cfg.ReadLimit)
	a := answerer{enc: envelope.NewEncoder()}
	var buf bytes.Buffer
	for n := 1; ; n++ {
		frame, err := readFrame(c, &buf)
		if err != nil {
			return err
		}
		s.frames.Add(1)
		if s.cfg.CloseAfter > 0 && n >= s.cfg.CloseAfter {
			return errCloseAfter
		}
		if reply := s.answer(&a, frame); reply != nil {
			if err := write(c, reply); err != nil {
				return err
			}
		}
	}
}

// readFrame reads the next message into buf, which is reused between calls.
func readFrame(c *websocket.Conn, buf *bytes.Buffer) ([]byte, error) {
	typ, r, err := c.NextReader()
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if typ != websocket.BinaryMessage {
		return nil, ErrTextFrame
	}
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("read frame: %w", err)
	}
	return buf.Bytes(), nil
}

func write(c *websocket.Conn, reply []byte) error {
	if err := c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	if err := c.WriteMessage(websocket.BinaryMessage, reply); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// answerer holds one connection's reusable decoding and encoding state.
type answerer struct {
	enc *envelope.Encoder
	env envelope.Envelope
}

// answer decides the reply to one frame: an error frame for an unparsable
// envelope or a RejectEvery frame, nothing for a dropped ack, else an ack.
// The reply is valid until the next call.
func (s *Server) answer(a *answerer, frame []byte) []byte {
	if err := envelope.Decode(frame, &a.env); err != nil && !errors.Is(err, envelope.ErrNotStream) {
		s.rejected.Add(1)
		return a.enc.Error(a.env.TxID, envelope.ErrorText)
	}
	n := s.answered.Add(1)
	if s.cfg.RejectEvery > 0 && n%int64(s.cfg.RejectEvery) == 0 {
		s.rejected.Add(1)
		return a.enc.Error(a.env.TxID, envelope.ErrorText)
	}
	if s.dropAck(n) {
		s.dropped.Add(1)
		return nil
	}
	s.acks.Add(1)
	return a.enc.Ack(a.env.TxID, a.env.Topic)
}

// dropAck applies DropFirst and DropEvery to the nth answered frame.
func (s *Server) dropAck(n int64) bool {
	if n <= int64(s.cfg.DropFirst) {
		return true
	}
	return s.cfg.DropEvery > 0 && (n-int64(s.cfg.DropFirst))%int64(s.cfg.DropEvery) == 0
}
