// Package corkconn coalesces small writes on a connection: while the
// connection is corked, writes are buffered and reach the underlying
// connection in one Write (one TLS record, one system call) when it is
// uncorked, when the buffer fills, or, in read-flush mode, before the next
// Read. Websocket messages keep their framing; only their packing into TCP
// segments changes, as it would with Nagle's algorithm.
package corkconn

import (
	"fmt"
	"net"
	"sync"
)

// bufferSize is the largest batch; TLS records carry at most 16 KiB.
const bufferSize = 16 << 10

// Conn is a net.Conn with write coalescing. It is safe for concurrent use:
// writes from several goroutines (for example websocket control frames)
// are serialised.
type Conn struct {
	net.Conn
	readFlush bool

	mu     sync.Mutex
	corked bool
	buf    []byte
	err    error // first write error; later writes fail with it
}

// New wraps c. Writes pass straight through until Cork.
func New(c net.Conn) *Conn {
	return &Conn{Conn: c}
}

// NewReadFlush wraps c so that it is always corked and flushes before every
// Read: replies written while processing a burst of input leave together
// when the connection waits for more input. Suits a request-reply loop in a
// single goroutine.
func NewReadFlush(c net.Conn) *Conn {
	return &Conn{Conn: c, readFlush: true, corked: true}
}

// Write buffers p while corked (flushing a full buffer), else writes it.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if !c.corked {
		return c.writeLocked(p)
	}
	if len(c.buf)+len(p) > bufferSize {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	if len(p) >= bufferSize {
		return c.writeLocked(p)
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// Read flushes buffered writes first in read-flush mode.
func (c *Conn) Read(p []byte) (int, error) {
	if c.readFlush {
		if err := c.Flush(); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}

// Cork starts buffering writes.
func (c *Conn) Cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// Uncork writes what is buffered and lets later writes pass straight through.
func (c *Conn) Uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = c.readFlush
	return c.flushLocked()
}

// Flush writes what is buffered.
func (c *Conn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

// Close flushes (best effort) and closes the connection.
func (c *Conn) Close() error {
	_ = c.Flush()
	return c.Conn.Close()
}

func (c *Conn) flushLocked() error {
	if len(c.buf) == 0 || c.err != nil {
		return c.err
	}
	_, err := c.writeLocked(c.buf)
	c.buf = c.buf[:0]
	return err
}

func (c *Conn) writeLocked(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.err = fmt.Errorf("corkconn: write: %w", err)
		return n, c.err
	}
	return n, nil
}
