package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/gateway/internal/session"
	"github.com/fleetrelay/fleetrelay/wal"
)

// instantWAL makes every record durable at once.
type instantWAL struct{}

func (instantWAL) Append(context.Context, []byte, []byte) (wal.Position, error) {
	return wal.Position{}, nil
}

func (instantWAL) EnqueueOwned([]byte, []byte) (session.Waiter, error) { return doneWait{}, nil }

type doneWait struct{}

func (doneWait) Wait(context.Context) (wal.Position, error) { return wal.Position{}, nil }
func (doneWait) Ready() bool                                { return true }

// BenchmarkRoundTrip measures one vehicle's record → ack round trips
// through a session over loopback, window records in flight, with answers
// batched (Upgrade) or written one by one (a plain upgrade). Client and
// server share the process, so ns/op is the whole round trip's CPU.
func BenchmarkRoundTrip(b *testing.B) {
	for _, window := range []int{1, 8} {
		for _, batched := range []bool{false, true} {
			b.Run("window="+strconv.Itoa(window)+"/batched="+strconv.FormatBool(batched), func(b *testing.B) {
				benchRoundTrip(b, window, batched)
			})
		}
	}
}

func benchRoundTrip(b *testing.B, window int, batched bool) {
	up := websocket.Upgrader{}
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var ws *websocket.Conn
		var err error
		if batched {
			ws, err = session.Upgrade(&up, rw, r)
		} else {
			ws, err = up.Upgrade(rw, r, nil)
		}
		if err != nil {
			return
		}
		cfg := config()
		cfg.MaxInFlight = 32
		s := session.New(ws, ingest.Conn{VIN: "VIN1", ConnectionID: "c1"}, cfg,
			session.Settings{Processor: storeAll{}, WAL: instantWAL{}, Logger: discard()})
		wg.Go(func() { s.Run() })
	}))
	defer func() { srv.Close(); wg.Wait() }()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	frame := []byte("txid-0123456789")
	inFlight := 0
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		for inFlight < window && sent < b.N {
			if err := ws.WriteMessage(websocket.BinaryMessage, frame); err != nil {
				b.Fatal(err)
			}
			sent++
			inFlight++
		}
		if _, _, err := ws.ReadMessage(); err != nil {
			b.Fatal(err)
		}
		inFlight--
	}
	for ; inFlight > 0; inFlight-- {
		if _, _, err := ws.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}
