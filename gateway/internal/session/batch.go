package session

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// batchLimit is the most answer bytes held back before they are written;
// it stays under one TLS record (16 KiB of plaintext).
const batchLimit = 8 << 10

// batchBuffers lend a buffer to a connection only while its writer holds
// answers back, so an idle connection holds none.
var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, batchLimit); return &b }}

// batchConn is the connection beneath a session's websocket. While the
// session's writer holds it (hold), websocket frames written to it are
// gathered and reach the TLS connection in one Write when the writer
// releases it (release): several acks that became ready together leave in
// one TLS record and one system call instead of one each. Framing is
// untouched; only the packing of frames into TCP segments changes. Frames
// written while it is not held (pings, pongs, close frames from other
// goroutines) pass straight through; concurrent writes are serialised.
type batchConn struct {
	net.Conn

	mu       sync.Mutex
	held     bool
	buf      *[]byte   // borrowed from batchBuffers while held
	deadline time.Time // the write deadline set while held, applied at the flush
	err      error     // the first failed write; every later write fails with it
}

// SetWriteDeadline sets the write deadline; while the connection is held
// it only takes effect for the flush (one deadline update per batch).
func (c *batchConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		c.deadline = t
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// Write writes p, or gathers it while the connection is held.
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if !c.held {
		return c.write(p)
	}
	if c.buf == nil {
		c.buf = batchBuffers.Get().(*[]byte)
	}
	if len(*c.buf)+len(p) > batchLimit {
		if err := c.flush(); err != nil {
			return 0, err
		}
		if len(p) > batchLimit {
			return c.write(p)
		}
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

func (c *batchConn) write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// flush writes what is gathered. c.mu is held.
func (c *batchConn) flush() error {
	if c.buf == nil || len(*c.buf) == 0 {
		return c.err
	}
	if !c.deadline.IsZero() {
		if err := c.Conn.SetWriteDeadline(c.deadline); err != nil {
			c.err = err
			return err
		}
		c.deadline = time.Time{}
	}
	_, err := c.write(*c.buf)
	*c.buf = (*c.buf)[:0]
	return err
}

// hold starts gathering writes.
func (c *batchConn) hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

// release writes what was gathered since hold, stops gathering and returns
// the buffer. It reports the write's error, or the error of an earlier
// write: frames gathered after a failed write never reached the peer.
func (c *batchConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.flush()
	c.held, c.deadline = false, time.Time{}
	if c.buf != nil {
		batchBuffers.Put(c.buf)
		c.buf = nil
	}
	if err != nil {
		return fmt.Errorf("write answers: %w", err)
	}
	return nil
}

// Upgrade upgrades a vehicle's request to a websocket whose answers a
// Session can write in batches: it is up.Upgrade with the hijacked
// connection wrapped.
func Upgrade(up *websocket.Upgrader, w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	ws, err := up.Upgrade(batchingWriter{w}, r, nil)
	if err != nil {
		return nil, fmt.Errorf("websocket upgrade: %w", err)
	}
	return ws, nil
}

// batchingWriter hands the upgrader a batchConn when it hijacks the
// connection.
type batchingWriter struct {
	http.ResponseWriter
}

// Hijack takes the connection over from net/http.
func (w batchingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack: %w", err)
	}
	return &batchConn{Conn: conn}, brw, nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w batchingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
