package ingest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
)

func TestDebugLogForFramesNotStored(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := ingest.NewProcessor(ingest.Config{Topics: []string{"V"}}, ingest.Settings{Logger: logger})
	require.NoError(t, err)

	p.Process(frameSpec{txid: "tx-ok", topic: "V", payload: vPayload(t, "")}.build(), testConn(), testNow)
	require.Zero(t, buf.Len(), "stored frames are not logged")

	p.Process(frameSpec{txid: "tx-bad", topic: "V", payload: []byte{0xff}}.build(), testConn(), testNow)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "frame_not_stored", line["msg"])
	require.Equal(t, "error", line["action"])
	require.Equal(t, "bad_payload", line["reason"])
	require.Equal(t, "tx-bad", line["txid"])
	require.Equal(t, testVIN, line["vin"])
	require.NotEmpty(t, line["error"])
}

// Many connections share one Processor.
func TestProcessConcurrently(t *testing.T) {
	p := newProcessor(t, ingest.Config{Topics: []string{"V", "connectivity"}})
	frame := frameSpec{txid: "t", topic: "V", payload: vPayload(t, "")}.build()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			c := testConn()
			c.VIN = fmt.Sprintf("VIN%d", w)
			for range 50 {
				res := p.Process(frame, c, testNow)
				if res.Action != ingest.ActionStore || !bytes.Contains(res.Frame, []byte(c.VIN)) {
					t.Errorf("worker %d: %v %v", w, res.Action, res.Err)
					return
				}
				if p.Connectivity(c, 1, testNow) == nil {
					t.Errorf("worker %d: no connectivity record", w)
					return
				}
			}
		})
	}
	wg.Wait()
}
