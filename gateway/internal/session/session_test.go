package session_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/gateway/internal/session"
	"github.com/fleetrelay/fleetrelay/protos/envelope"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/wal"
)

// storeAll decides every frame "store", with the frame as txid; frames
// starting with "err" are answered with an error frame.
type storeAll struct{}

func (storeAll) Process(frame []byte, c *ingest.Conn, _ time.Time) ingest.Result {
	if strings.HasPrefix(string(frame), "err") {
		return ingest.Result{Action: ingest.ActionError, TxID: frame, Reason: ingest.ReasonBadPayload}
	}
	enc, err := proto.MarshalOptions{}.MarshalAppend(make([]byte, wal.FrameReserve), &walpb.Record{Vin: c.VIN, Topic: "V", Txid: frame})
	if err != nil {
		panic(err)
	}
	return ingest.Result{Action: ingest.ActionStore, TxID: frame, Topic: []byte("V"), Frame: enc, Reason: ingest.ReasonStored}
}

// gatedWAL completes each append only when the test releases its txid,
// with the error the test chose.
type gatedWAL struct {
	mu      sync.Mutex
	gates   map[string]chan error
	arrived chan string
	closed  chan struct{}
}

// newGatedWAL returns a WAL whose pending appends fail with ErrClosed once
// close is called, as the real one does when it is closed.
func newGatedWAL() *gatedWAL {
	return &gatedWAL{gates: map[string]chan error{}, arrived: make(chan string, 64), closed: make(chan struct{})}
}

func (w *gatedWAL) close() { close(w.closed) }

func (w *gatedWAL) gate(txid string) chan error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gates[txid] == nil {
		w.gates[txid] = make(chan error, 1)
	}
	return w.gates[txid]
}

func (w *gatedWAL) Append(ctx context.Context, key, data []byte) (wal.Position, error) {
	q, err := w.EnqueueOwned(key, append(make([]byte, wal.FrameReserve), data...))
	if err != nil {
		return wal.Position{}, err
	}
	return q.Wait(ctx)
}

// EnqueueOwned reports the record's arrival (in call order) and returns a
// waiter that completes when the test releases the txid.
func (w *gatedWAL) EnqueueOwned(_, buf []byte) (session.Waiter, error) {
	var rec walpb.Record
	if err := proto.Unmarshal(buf[wal.FrameReserve:], &rec); err != nil {
		return nil, err
	}
	txid := string(rec.GetTxid())
	w.arrived <- txid
	return gatedWait{w: w, txid: txid}, nil
}

type gatedWait struct {
	w    *gatedWAL
	txid string
}

func (g gatedWait) Wait(ctx context.Context) (wal.Position, error) {
	select {
	case err := <-g.w.gate(g.txid):
		return wal.Position{Index: 1}, err
	case <-ctx.Done():
		return wal.Position{}, ctx.Err()
	case <-g.w.closed:
		return wal.Position{}, wal.ErrClosed
	}
}

// Ready reports whether the test released the txid (Wait returns at once),
// so the session may write its ack in one batch with the previous ones.
func (g gatedWait) Ready() bool {
	select {
	case <-g.w.closed:
		return true
	default:
		return len(g.w.gate(g.txid)) > 0
	}
}

func (w *gatedWAL) release(txid string, err error) { w.gate(txid) <- err }

// serve runs one session behind an httptest server and returns the
// client side and the session (once upgraded).
func serve(t *testing.T, w *gatedWAL, cfg session.Config) (*websocket.Conn, <-chan *session.Session) {
	t.Helper()
	sessions := make(chan *session.Session, 1)
	up := websocket.Upgrader{}
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ws, err := session.Upgrade(&up, rw, r)
		if err != nil {
			return
		}
		s := session.New(ws, ingest.Conn{VIN: "VIN1", ConnectionID: "c1"}, cfg,
			session.Settings{Processor: storeAll{}, WAL: w, Logger: discard()})
		sessions <- s
		wg.Go(func() { s.Run() })
	}))
	t.Cleanup(func() { w.close(); srv.Close(); wg.Wait() })
	ws, _, err := websocket.DefaultDialer.DialContext(t.Context(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.Close() })
	return ws, sessions
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func config() session.Config {
	return session.Config{IdleTimeout: 30 * time.Second, WriteTimeout: 5 * time.Second, MaxInFlight: 8, WALRetryDelay: time.Second}
}

type answer struct {
	txid string
	ack  bool
}

func read(t *testing.T, ws *websocket.Conn, wait time.Duration) (answer, error) {
	t.Helper()
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(wait)))
	_, msg, err := ws.ReadMessage()
	if err != nil {
		return answer{}, err
	}
	var e envelope.Envelope
	if err := envelope.Decode(msg, &e); err != nil && !errors.Is(err, envelope.ErrNotStream) {
		return answer{}, err
	}
	return answer{txid: string(e.TxID), ack: e.Type == envelope.TypeStreamAck}, nil
}

func send(t *testing.T, ws *websocket.Conn, frames ...string) {
	t.Helper()
	for _, f := range frames {
		require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, []byte(f)))
	}
}

func TestAcksKeepRecordOrder(t *testing.T) {
	w := newGatedWAL()
	ws, _ := serve(t, w, config())
	send(t, ws, "r1", "r2", "err3", "r4")
	for range 3 {
		<-w.arrived // r1, r2 and r4 are all appending at once
	}
	// r4 and r2 become durable first; their acks must still wait for r1.
	w.release("r4", nil)
	w.release("r2", nil)
	time.Sleep(100 * time.Millisecond)
	w.release("r1", nil)
	for _, want := range []answer{{"r1", true}, {"r2", true}, {"err3", false}, {"r4", true}} {
		got, err := read(t, ws, 5*time.Second)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

func TestRefusedAppendIsNotAckedAndPausesReading(t *testing.T) {
	w := newGatedWAL()
	cfg := config()
	cfg.WALRetryDelay = 700 * time.Millisecond
	ws, _ := serve(t, w, cfg)
	send(t, ws, "r1")
	<-w.arrived
	start := time.Now()
	w.release("r1", wal.ErrFull)
	// Let the writer register the refusal before the next frame arrives.
	time.Sleep(100 * time.Millisecond)
	send(t, ws, "r2")
	<-w.arrived
	require.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond, "the session stopped reading for a while")
	w.release("r2", nil)
	got, err := read(t, ws, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, answer{"r2", true}, got, "r1 got no answer: the vehicle resends it")
}

func TestDrainAnswersInFlightThenGoesAway(t *testing.T) {
	w := newGatedWAL()
	ws, sessions := serve(t, w, config())
	send(t, ws, "r1")
	<-w.arrived
	s := <-sessions
	s.Drain()
	time.Sleep(100 * time.Millisecond)
	w.release("r1", nil)
	got, err := read(t, ws, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, answer{"r1", true}, got)
	_, err = read(t, ws, 5*time.Second)
	require.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "got %v", err)
}

// TestAckDoesNotWaitForLaterRecord: answers are written in batches, but a
// batch leaves before the writer waits for a record that is not durable.
func TestAckDoesNotWaitForLaterRecord(t *testing.T) {
	w := newGatedWAL()
	ws, _ := serve(t, w, config())
	send(t, ws, "r1", "err2", "r3", "r4")
	for range 3 {
		<-w.arrived
	}
	w.release("r1", nil)
	for _, want := range []answer{{"r1", true}, {"err2", false}} {
		got, err := read(t, ws, 5*time.Second)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	w.release("r4", nil)
	w.release("r3", nil)
	for _, want := range []answer{{"r3", true}, {"r4", true}} {
		got, err := read(t, ws, 5*time.Second)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}
