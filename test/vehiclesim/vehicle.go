package vehiclesim

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/protos/envelope"
	"github.com/fleetrelay/fleetrelay/test/corkconn"
)

// Per-connection limits.
const (
	writeTimeout = 10 * time.Second
	// readLimit bounds a server frame; acks and error frames are ~100 bytes.
	readLimit = 64 << 10
	// minResendCheck is the shortest period of the resend-timeout scan.
	minResendCheck = 5 * time.Millisecond
)

// deviceType is the client type of vehicles in envelopes and sender ids.
const deviceType = "vehicle_device"

// errConnLost ends a session whose reader has stopped.
var errConnLost = errors.New("vehiclesim: connection lost")

// isResendTrue is the protobuf encoding of Payload.is_resend = true (field
// 4, varint 1). Appending it to a marshalled Payload sets the flag: the last
// occurrence of a scalar field wins.
var isResendTrue = []byte{0x20, 0x01}

// record is one record in flight. While it is in vehicle.inflight its
// fields change only under vehicle.mu; the sender goroutine reads them to
// transmit, the reader goroutine to settle.
type record struct {
	seq       uint64
	txid      []byte
	messageID []byte
	topic     string
	payload   []byte
	createdAt uint32
	sentAt    time.Time
	resent    bool // V payload already carries is_resend
}

// vehicle is one simulated vehicle: a sender goroutine (run) that owns the
// connection's writes, and per connection a reader goroutine that settles
// records on acks and error frames.
type vehicle struct {
	vin    string
	cfg    *Config
	dialer websocket.Dialer
	header http.Header
	log    *slog.Logger
	acks   *AckLog
	stats  *vehicleStats

	// Owned by the sender goroutine.
	gen                         *generator
	enc                         *envelope.Encoder
	senderID, deviceID, devType []byte
	txPrefix                    string
	seq                         uint64
	pace                        pacer
	due                         []*record
	backoff                     backoff
	held                        int            // window tokens taken back while draining
	cork                        *corkconn.Conn // the current connection's write coalescer
	slots                       chan struct{}  // one token per free window slot; the reader returns them

	// Shared by the sender and reader goroutines.
	mu       sync.Mutex
	inflight map[string]*record // by txid; guarded by mu
	free     []*record          // recycled records; guarded by mu

	// Owned by the reader goroutine.
	rbuf bytes.Buffer
}

func newVehicle(id Vehicle, cfg *Config, txPrefix string, acks *AckLog, log *slog.Logger) *vehicle {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id.VIN))
	v := &vehicle{
		vin: id.VIN, cfg: cfg, log: log.With("vin", id.VIN), acks: acks, stats: newVehicleStats(),
		gen: newGenerator(id.VIN, h.Sum64(), cfg.Mix), enc: envelope.NewEncoder(),
		senderID: []byte(deviceType + "." + id.VIN), deviceID: []byte(id.VIN), devType: []byte(deviceType),
		txPrefix: txPrefix + "-", pace: newPacer(cfg.Rate), backoff: newBackoff(cfg.BackoffMin, cfg.BackoffMax),
		slots: make(chan struct{}, cfg.Window), inflight: make(map[string]*record, cfg.Window),
	}
	for range cfg.Window {
		v.slots <- struct{}{}
	}
	v.header = http.Header{"Version": {cfg.Version}, "X-Network-Interface": {cfg.NetworkInterface}}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{id.Cert}, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	v.dialer = websocket.Dialer{
		NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialTLS(ctx, network, addr, tlsConfig)
		},
		HandshakeTimeout: cfg.DialTimeout,
		ReadBufferSize:   4 << 10,
		WriteBufferSize:  16 << 10,
	}
	return v
}

// dialTLS opens the TLS connection under the websocket, wrapped so that
// the sender can coalesce the frames of a burst into one write.
func dialTLS(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
	raw, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	return corkconn.New(tc), nil
}

// run connects and streams until ctx ends, then keeps draining (waiting
// for the answers of records in flight, reconnecting and resending if
// needed) for up to the drain timeout. Lost connections are re-established
// with exponential backoff.
func (v *vehicle) run(ctx context.Context) {
	drainCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(v.cfg.DrainTimeout, cancel) })
	defer stop()
	for connected := false; drainCtx.Err() == nil && !v.drained(ctx); {
		conn, err := v.dial(drainCtx)
		if err != nil {
			v.stats.update(func(c *counters) { c.DialErrors++ })
			v.log.Debug("vehicle_dial_failed", "err", err)
			sleep(drainCtx, v.backoff.next())
			continue
		}
		if connected {
			v.stats.update(func(c *counters) { c.Reconnects++ })
		}
		connected = true
		if err := v.session(ctx, drainCtx, conn); err != nil {
			v.log.Info("vehicle_disconnected", "err", err)
			sleep(drainCtx, v.backoff.next())
		}
	}
}

// drained reports whether the run is over and nothing is in flight.
func (v *vehicle) drained(ctx context.Context) bool {
	if ctx.Err() == nil {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.inflight) == 0
}

func (v *vehicle) dial(ctx context.Context) (*websocket.Conn, error) {
	conn, resp, err := v.dialer.DialContext(ctx, v.cfg.URL, v.header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", v.cfg.URL, err)
	}
	conn.SetReadLimit(readLimit)
	cork, ok := conn.NetConn().(*corkconn.Conn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("dial %s: unexpected connection type %T", v.cfg.URL, conn.NetConn())
	}
	v.cork = cork
	return conn, nil
}

// session streams over one connection until it fails or ctx ends, then
// drains until drainCtx ends and closes the connection normally.
func (v *vehicle) session(ctx, drainCtx context.Context, conn *websocket.Conn) error {
	done := make(chan struct{})
	var readErr error
	go func() {
		defer close(done)
		readErr = v.readLoop(conn)
	}()
	v.stats.setConnected(true)
	v.cork.Cork()
	defer func() {
		_ = conn.Close()
		<-done
		v.stats.setConnected(false)
	}()
	err := v.stream(ctx, conn, done)
	if ctx.Err() != nil && !errors.Is(err, errConnLost) {
		err = v.drain(drainCtx, conn, done)
	}
	if errors.Is(err, errConnLost) {
		<-done
		return fmt.Errorf("%w: %w", err, readErr)
	}
	return err
}

// stream resends what the previous connection left unacked, then sends new
// records as the rate and the window allow.
func (v *vehicle) stream(ctx context.Context, conn *websocket.Conn, done <-chan struct{}) error {
	tick := time.NewTicker(max(v.cfg.ResendTimeout/4, minResendCheck))
	defer tick.Stop()
	if err := v.resend(conn, time.Now(), true); err != nil {
		return err
	}
	for {
		if d := v.pace.reserve(time.Now()); d > 0 {
			timer := time.NewTimer(d)
			err := await(ctx, v, conn, done, tick, timer.C)
			timer.Stop()
			if err != nil {
				return err
			}
		}
		if err := await(ctx, v, conn, done, tick, v.slots); err != nil {
			return err
		}
		if err := v.sendNew(conn); err != nil {
			return err
		}
		v.backoff.reset()
	}
}

// await waits for ready while resending overdue records; it fails when ctx
// ends or the connection is lost.
//
// The sender writes corked: frames sent without waiting in between leave in
// one write. await flushes them before it blocks.
func await[T any](ctx context.Context, v *vehicle, conn *websocket.Conn, done <-chan struct{}, tick *time.Ticker, ready <-chan T) error {
	select { // a sender that never blocks still resends on time
	case now := <-tick.C:
		if err := v.resend(conn, now, false); err != nil {
			return err
		}
	default:
	}
	select {
	case <-ready:
		return nil
	default:
	}
	if err := v.cork.Uncork(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	defer v.cork.Cork()
	for {
		select {
		case <-ready:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return errConnLost
		case now := <-tick.C:
			if err := v.resend(conn, now, false); err != nil {
				return err
			}
		}
	}
}
