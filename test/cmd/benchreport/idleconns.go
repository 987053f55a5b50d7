package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

// idleDialConcurrency bounds handshakes in flight: a storm of thousands
// of simultaneous handshakes only makes them time out and start again.
const idleDialConcurrency = 32

// idleDialAttempts is how often one vehicle tries to connect.
const idleDialAttempts = 3

// idleFleet is a set of open, idle vehicle connections. Each has a reader
// so that the gateway's pings are answered.
type idleFleet struct {
	mu     sync.Mutex
	conns  []*websocket.Conn
	failed atomic.Int64
	last   error // the last dial error, under mu
	wg     sync.WaitGroup
}

// dialIdle connects the first n vehicles of the PKI to url, at most
// idleDialConcurrency handshakes at a time, and keeps the connections
// open until close. It returns when every vehicle connected or gave up,
// or when ctx ends; progress is called after each connection.
func dialIdle(ctx context.Context, url, pki string, n int, progress func(open, failed int)) (*idleFleet, error) {
	l := devpki.Layout{Dir: pki}
	vins, err := devpki.VehicleVINs(l)
	if err != nil {
		return nil, err
	}
	if len(vins) < n {
		return nil, fmt.Errorf("idle: %s has %d vehicles, want %d", pki, len(vins), n)
	}
	roots, err := devpki.CAPool(l.CACert())
	if err != nil {
		return nil, err
	}
	f := &idleFleet{}
	sem := make(chan struct{}, idleDialConcurrency)
	var dials sync.WaitGroup
	for _, vin := range vins[:n] {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			dials.Wait()
			return f, ctx.Err()
		}
		dials.Go(func() {
			defer func() { <-sem }()
			f.connect(ctx, url, l, vin, roots)
			progress(f.open(), int(f.failed.Load()))
		})
	}
	dials.Wait()
	return f, ctx.Err()
}

func (f *idleFleet) connect(ctx context.Context, url string, l devpki.Layout, vin string, roots *x509.CertPool) {
	cert, err := devpki.LoadVehicle(l, vin)
	if err != nil {
		f.fail(err)
		return
	}
	d := websocket.Dialer{
		TLSClientConfig:  &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, MinVersion: tls.VersionTLS12},
		HandshakeTimeout: 30 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
	}
	header := http.Header{"Version": {"1.2.0"}, "X-Network-Interface": {"wifi"}}
	var last error
	for range idleDialAttempts {
		conn, resp, err := d.DialContext(ctx, url, header)
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close() // the upgrade response has no body to read
		}
		if err == nil {
			f.add(conn)
			return
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	f.fail(last)
}

func (f *idleFleet) fail(err error) {
	f.failed.Add(1)
	f.mu.Lock()
	f.last = err
	f.mu.Unlock()
}

// lastErr is the most recent dial error, nil if none.
func (f *idleFleet) lastErr() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func (f *idleFleet) add(c *websocket.Conn) {
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	f.wg.Go(func() {
		for {
			// Reading runs the ping handler; nothing else arrives on an idle
			// connection, and the loop ends when the connection closes.
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
}

func (f *idleFleet) open() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// close closes every connection and waits for the readers.
func (f *idleFleet) close() error {
	f.mu.Lock()
	var errs []error
	for _, c := range f.conns {
		if err := c.Close(); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			errs = append(errs, err)
		}
	}
	f.conns = nil
	f.mu.Unlock()
	f.wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("idle: close %d connections: %w", len(errs), errs[0])
	}
	return nil
}
