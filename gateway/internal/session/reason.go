package session

import (
	"errors"
	"io"
	"net"

	"github.com/gorilla/websocket"
)

// CloseReason says why a connection ended; its values form a fixed set
// usable as a metric label.
type CloseReason string

// Close reasons.
const (
	ReasonClientClosed CloseReason = "client_closed" // close frame or EOF from the vehicle
	ReasonTextFrame    CloseReason = "text_frame"    // a text message (reference: close)
	ReasonTooBig       CloseReason = "message_too_big"
	ReasonIdle         CloseReason = "idle_timeout"
	ReasonShutdown     CloseReason = "shutdown"
	ReasonWriteFailed  CloseReason = "write_failed"
	ReasonReadFailed   CloseReason = "read_failed"
)

// classify maps a read error to a close reason.
func classify(err error) CloseReason {
	var ne net.Error
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		return ReasonTooBig
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived),
		websocket.IsUnexpectedCloseError(err), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ReasonClientClosed
	case errors.As(err, &ne) && ne.Timeout():
		return ReasonIdle
	default:
		return ReasonReadFailed
	}
}
