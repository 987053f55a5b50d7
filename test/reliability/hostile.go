package reliability

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/protos/envelope"
	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

// hostileTxIDPrefix marks every txid a hostile client sends, so that a
// hostile record reaching the WAL is detected.
const hostileTxIDPrefix = "hostile-"

// slowlorisHeaderTimeout is the gateway's read_header_timeout in the
// scenario; a slowloris connection must be closed within it plus a margin.
const slowlorisHeaderTimeout = 3 * time.Second

// Hostile attempt kinds.
const (
	HostileMalformed     = "malformed-frame"
	HostileOversize      = "oversize-frame"
	HostileOtherCA       = "cert-other-ca"
	HostileUnknownIssuer = "cert-unknown-issuer"
	HostileExpired       = "cert-expired"
	HostileWrongUsage    = "cert-server-usage"
	HostileSlowloris     = "slowloris"
)

var hostileKinds = []string{
	HostileMalformed, HostileOtherCA, HostileOversize, HostileUnknownIssuer, HostileSlowloris,
	HostileExpired, HostileWrongUsage,
}

// HostileStats counts the attempts of one kind. Attempted counts only the
// attempts that reached a listening gateway (Unreachable are those that did
// not, for example while it was restarting).
type HostileStats struct {
	Kind        string `json:"kind"`
	Attempted   int    `json:"attempted"`
	Refused     int    `json:"refused"`
	Accepted    int    `json:"accepted"`
	Unreachable int    `json:"unreachable"`
	// Example is the last accepted attempt's detail, or the last refusal.
	Example string `json:"example,omitempty"`
}

type outcome int

const (
	refused outcome = iota
	accepted
	unreachable
)

// hostile runs hostile clients against the gateway.
type hostile struct {
	addr    string
	roots   *x509.CertPool
	certs   map[string]tls.Certificate
	vin     string
	encoder *envelope.Encoder

	mu    sync.Mutex
	stats map[string]*HostileStats
	seq   int
}

// newHostile issues the hostile identities from the scenario's PKI.
func newHostile(pki, addr, vin string) (*hostile, error) {
	layout := devpki.Layout{Dir: pki}
	ca, err := devpki.LoadCA(layout)
	if err != nil {
		return nil, fmt.Errorf("hostile: %w", err)
	}
	h := &hostile{addr: addr, roots: ca.Pool(), certs: map[string]tls.Certificate{}, vin: vin,
		encoder: envelope.NewEncoder(), stats: map[string]*HostileStats{}}
	valid, err := ca.Issue(devpki.VehicleSpec(vin))
	if err != nil {
		return nil, fmt.Errorf("hostile: valid identity: %w", err)
	}
	h.certs["valid"] = valid.TLSCertificate()

	other, err := devpki.NewCA(devpki.CASpec{CommonName: "Other CA"})
	if err != nil {
		return nil, fmt.Errorf("hostile: other CA: %w", err)
	}
	leaf, err := other.Issue(devpki.VehicleSpec(vin))
	if err != nil {
		return nil, fmt.Errorf("hostile: other CA leaf: %w", err)
	}
	h.certs[HostileOtherCA] = leaf.TLSCertificate()

	inter, err := ca.NewIntermediate(devpki.CASpec{CommonName: "Unsent Intermediate"})
	if err != nil {
		return nil, fmt.Errorf("hostile: intermediate: %w", err)
	}
	if leaf, err = inter.Issue(devpki.VehicleSpec(vin)); err != nil {
		return nil, fmt.Errorf("hostile: intermediate leaf: %w", err)
	}
	// The intermediate is left out of the chain: the issuer is unknown.
	h.certs[HostileUnknownIssuer] = tls.Certificate{Certificate: [][]byte{leaf.Cert.Raw}, PrivateKey: leaf.Key}

	spec := devpki.VehicleSpec(vin)
	spec.NotBefore, spec.NotAfter = time.Now().Add(-72*time.Hour), time.Now().Add(-24*time.Hour)
	if leaf, err = ca.Issue(spec); err != nil {
		return nil, fmt.Errorf("hostile: expired leaf: %w", err)
	}
	h.certs[HostileExpired] = leaf.TLSCertificate()

	spec = devpki.VehicleSpec(vin)
	spec.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	if leaf, err = ca.Issue(spec); err != nil {
		return nil, fmt.Errorf("hostile: server-usage leaf: %w", err)
	}
	h.certs[HostileWrongUsage] = leaf.TLSCertificate()
	return h, nil
}

// run makes one attempt every interval, cycling through the kinds, until
// ctx ends. Slowloris attempts run beside the others.
func (h *hostile) run(ctx context.Context, interval time.Duration) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; ; i++ {
		kind := hostileKinds[i%len(hostileKinds)]
		if kind == HostileSlowloris {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h.record(kind, h.slowloris(ctx))
			}()
		} else {
			h.record(kind, h.attempt(ctx, kind))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

type result struct {
	outcome outcome
	detail  string
}

func (h *hostile) record(kind string, r result) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.stats[kind]
	if st == nil {
		st = &HostileStats{Kind: kind}
		h.stats[kind] = st
	}
	switch r.outcome {
	case unreachable:
		st.Unreachable++
		return
	case accepted:
		st.Accepted++
		st.Example = r.detail
	case refused:
		st.Refused++
		if st.Accepted == 0 {
			st.Example = r.detail
		}
	}
	st.Attempted++
}

// results returns the stats by kind.
func (h *hostile) results() []HostileStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]HostileStats, 0, len(h.stats))
	for _, st := range h.stats {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// dial opens a websocket with cert. reached reports whether a TCP
// connection to the gateway was made at all.
func (h *hostile) dial(ctx context.Context, cert tls.Certificate) (ws *websocket.Conn, reached bool, err error) {
	d := websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		TLSClientConfig:  &tls.Config{RootCAs: h.roots, Certificates: []tls.Certificate{cert}},
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
			reached = err == nil
			return c, err
		},
	}
	ws, resp, err := d.DialContext(ctx, "wss://"+h.addr+"/", nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return ws, reached, err
}

// attempt makes one attempt of a kind other than slowloris.
func (h *hostile) attempt(ctx context.Context, kind string) result {
	cert, ok := h.certs[kind]
	if !ok {
		cert = h.certs["valid"]
	}
	ws, reached, err := h.dial(ctx, cert)
	if !reached {
		return result{outcome: unreachable}
	}
	if err != nil {
		if _, certKind := h.certs[kind]; certKind {
			return result{outcome: refused, detail: err.Error()}
		}
		// A valid identity that cannot connect cannot test a frame.
		return result{outcome: unreachable}
	}
	defer ws.Close()
	switch kind {
	case HostileMalformed, HostileOversize:
		return h.sendFrame(ws, kind)
	default:
		return result{outcome: accepted, detail: "websocket upgrade succeeded with a " + kind + " certificate"}
	}
}

// sendFrame sends one bad frame and reads the answer: an ack is an
// acceptance; an error answer or a closed connection is a refusal.
func (h *hostile) sendFrame(ws *websocket.Conn, kind string) result {
	h.mu.Lock()
	h.seq++
	txid := fmt.Sprintf("%s%s-%d", hostileTxIDPrefix, kind, h.seq)
	h.mu.Unlock()
	var frame []byte
	switch kind {
	case HostileMalformed:
		frame = append([]byte{0xff, 0xff, 0xff, 0x7f}, []byte(txid+" is not a FlatBuffers envelope")...)
	default:
		payload := make([]byte, 1_100_000)
		_, _ = rand.Read(payload)
		frame = append([]byte(nil), h.encoder.Stream([]byte(txid), []byte("V"), []byte(txid), envelope.Stream{
			SenderID: []byte("vehicle_device." + h.vin), Payload: payload,
			DeviceType: []byte("vehicle_device"), DeviceID: []byte(h.vin),
		})...)
	}
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.BinaryMessage, frame); err != nil {
		return result{outcome: refused, detail: "write: " + err.Error()}
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return result{outcome: refused, detail: "no answer within 10s"}
			}
			return result{outcome: refused, detail: "connection closed: " + err.Error()}
		}
		var e envelope.Envelope
		decErr := envelope.Decode(msg, &e)
		switch {
		case e.Type == envelope.TypeStreamAck:
			return result{outcome: accepted, detail: fmt.Sprintf("%s acked (txid %q)", kind, e.TxID)}
		case decErr == nil && string(e.Stream.Payload) == envelope.ErrorText:
			return result{outcome: refused, detail: "error answer"}
		}
		// Anything else is not an answer to this frame; keep reading.
	}
}

// slowloris completes TLS with a valid identity and then sends the HTTP
// request headers one byte at a time. The gateway must close the
// connection within its header timeout (plus a margin).
func (h *hostile) slowloris(ctx context.Context) result {
	raw, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return result{outcome: unreachable}
	}
	defer raw.Close()
	conn := tls.Client(raw, &tls.Config{RootCAs: h.roots, Certificates: []tls.Certificate{h.certs["valid"]}, ServerName: "127.0.0.1"})
	start := time.Now()
	limit := start.Add(slowlorisHeaderTimeout + 5*time.Second)
	_ = conn.SetDeadline(limit)
	if err := conn.HandshakeContext(ctx); err != nil {
		return result{outcome: refused, detail: "closed during the TLS handshake: " + err.Error()}
	}
	closed := make(chan error, 1)
	go func() {
		buf := make([]byte, 512)
		for {
			if _, err := conn.Read(buf); err != nil {
				closed <- err
				return
			}
		}
	}()
	header := "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Padding: "
	for i := 0; ; i++ {
		b := byte('a')
		if i < len(header) {
			b = header[i]
		}
		if _, err := conn.Write([]byte{b}); err != nil {
			return result{outcome: refused, detail: fmt.Sprintf("closed after %s (%d bytes)", time.Since(start).Round(time.Millisecond), i)}
		}
		select {
		case err := <-closed:
			if time.Now().Before(limit) {
				return result{outcome: refused, detail: fmt.Sprintf("closed after %s: %v", time.Since(start).Round(time.Millisecond), err)}
			}
			return result{outcome: accepted, detail: "connection held open past the header timeout"}
		case <-ctx.Done():
			return result{outcome: unreachable}
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(limit) {
			return result{outcome: accepted, detail: fmt.Sprintf("headers trickled for %s without the connection being closed", time.Since(start).Round(time.Millisecond))}
		}
	}
}
