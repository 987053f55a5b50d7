package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/sinktest"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

type harness struct {
	t    *testing.T
	log  *memLog
	cur  *memCursor
	dl   *memDeadLetters
	sink recordingSink
	p    *pipeline.Pipeline
	// skipped holds the indexes the sink must not receive (unrouted topics).
	skipped map[uint64]bool
}

func testConfig() pipeline.Config {
	jitter := 0.2
	return pipeline.Config{
		Partition: 3, Topics: []string{"V", "alerts"},
		BatchMaxRecords: 10, BatchMaxBytes: 1 << 20, BatchLinger: 5 * time.Millisecond, Prefetch: 2,
		Retry:           config.RetryConfig{InitialIntervalMs: 100, MaxIntervalMs: 2000, Multiplier: 2, Jitter: &jitter},
		ShutdownTimeout: 3 * time.Second,
	}
}

// recordingSink is a fake sink that records what the datastore took.
type recordingSink interface {
	datastore.Sink
	// Accepted returns the records the datastore took, in the order it
	// took them, duplicates included.
	Accepted() []datastore.Record
	Calls() int
}

func newHarness(t *testing.T, sink recordingSink, cfg pipeline.Config) *harness {
	t.Helper()
	h := &harness{t: t, log: newMemLog(), cur: &memCursor{}, dl: &memDeadLetters{}, sink: sink, skipped: map[uint64]bool{}}
	h.cur.check = h.checkCommit
	p, err := pipeline.New(cfg, pipeline.Settings{Sink: sink, Open: h.log.open, Cursor: h.cur, DeadLetters: h.dl})
	require.NoError(t, err)
	h.p = p
	return h
}

// checkCommit vetoes a commit that covers an entry neither accepted by the
// sink (and, for a pipelined sink, confirmed to the pipeline), skipped, nor
// dead-lettered.
func (h *harness) checkCommit(index uint64) error {
	settled := map[uint64]bool{}
	accepted := h.sink.Accepted()
	if o, ok := h.sink.(*orderedSink); ok {
		accepted = o.Confirmed()
	}
	for _, r := range accepted {
		settled[r.Index] = true
	}
	for _, d := range h.dl.all() {
		settled[d.Index] = true
	}
	for i := uint64(1); i <= index; i++ {
		if !settled[i] && !h.skipped[i] {
			return fmt.Errorf("commit %d covers unsettled entry %d", index, i)
		}
	}
	return nil
}

// start runs the pipeline; the returned function cancels it and returns
// Run's error.
func (h *harness) start(ctx context.Context) func() error {
	ctx, cancel := context.WithCancel(ctx)
	var err error
	var wg sync.WaitGroup
	wg.Go(func() { err = h.p.Run(ctx) })
	return func() error {
		cancel()
		wg.Wait()
		return err
	}
}

// waitCursor lets fake time pass until the cursor reaches index.
func (h *harness) waitCursor(index uint64) {
	h.t.Helper()
	for range 100_000 {
		if h.cur.get() >= index {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("cursor stuck at %d, want %d", h.cur.get(), index)
}

// requireLastDeliveryInOrder checks that, keeping only the last delivery of
// each record, every VIN's records arrived in WAL order, and that every
// index in want was delivered.
func requireLastDeliveryInOrder(t *testing.T, accepted []datastore.Record, want []uint64) {
	t.Helper()
	last := map[uint64]int{}
	for i, r := range accepted {
		last[r.Index] = i
	}
	perVIN := map[string][]uint64{}
	for i, r := range accepted {
		if last[r.Index] == i {
			perVIN[r.WAL.GetVin()] = append(perVIN[r.WAL.GetVin()], r.Index)
		}
	}
	var got []uint64
	for vin, seq := range perVIN {
		require.Truef(t, slices.IsSorted(seq), "VIN %s out of order: %v", vin, seq)
		got = append(got, seq...)
	}
	slices.Sort(got)
	require.Equal(t, want, got)
}

func appendMixed(h *harness, n int) []uint64 {
	var want []uint64
	vins := []string{"VIN0", "VIN1", "VIN2"}
	for i := 1; i <= n; i++ {
		h.log.appendRecords(rec(vins[i%len(vins)], "V", i))
		want = append(want, uint64(i))
	}
	return want
}

func seqTo(n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// firstAttemptFails fails, once each, the records whose index matches.
func firstAttemptFails(match func(uint64) bool, err error) sinktest.Script {
	var mu sync.Mutex
	tried := map[uint64]bool{}
	return sinktest.RejectIf(func(_ int, r datastore.Record) error {
		mu.Lock()
		defer mu.Unlock()
		if match(r.Index) && !tried[r.Index] {
			tried[r.Index] = true
			return err
		}
		return nil
	})
}

func TestDeliversEveryRecordInOrderPerVIN(t *testing.T) {
	const n = 95
	tests := []struct {
		name      string
		script    sinktest.Script
		exactOnce bool
	}{
		{name: "healthy", exactOnce: true},
		{name: "outage_then_recovery", script: sinktest.FailFirst(12, sinktest.ErrUnavailable), exactOnce: true},
		{name: "throttled", script: sinktest.FailFirst(3, datastore.RetryAfter(sinktest.ErrUnavailable, time.Second)), exactOnce: true},
		{name: "partial_failures", script: firstAttemptFails(func(i uint64) bool { return i%7 == 0 }, sinktest.ErrUnavailable)},
		{name: "partial_error_with_bad_indexes", script: sinktest.FailFirst(2, &datastore.PartialError{Failed: []int{999}})},
		{name: "partial_throttled", script: firstAttemptFails(func(i uint64) bool { return i%4 == 1 },
			datastore.RetryAfter(sinktest.ErrUnavailable, 2*time.Second))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, sinktest.New("kafka", tt.script), testConfig())
				stop := h.start(t.Context())
				want := appendMixed(h, n)
				h.waitCursor(n)
				require.NoError(t, stop())
				accepted := h.sink.Accepted()
				requireLastDeliveryInOrder(t, accepted, want)
				if tt.exactOnce {
					require.Len(t, accepted, n, "no duplicates without partial failures")
				}
				t.Logf("%d records, %d deliveries, %d writes", n, len(accepted), h.sink.Calls())
			})
		})
	}
}

func TestPartialRetryResendsLaterRecordsOfSameVIN(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.BatchMaxRecords = 4
		h := newHarness(t, sinktest.New("kafka", firstAttemptFails(func(i uint64) bool { return i == 1 }, sinktest.ErrUnavailable)), cfg)
		stop := h.start(t.Context())
		h.log.appendRecords(rec("A", "V", 1), rec("B", "V", 2), rec("A", "V", 3), rec("B", "V", 4))
		h.waitCursor(4)
		require.NoError(t, stop())
		var got []uint64
		for _, r := range h.sink.Accepted() {
			got = append(got, r.Index)
		}
		// 1 failed: 2, 3, 4 accepted; 1 is retried with 3 (same VIN, later).
		require.Equal(t, []uint64{2, 3, 4, 1, 3}, got)
	})
}

func TestPermanentErrorsGoToDeadLetters(t *testing.T) {
	rejected := errors.New("schema rejected")
	tests := []struct {
		name   string
		script sinktest.Script
		dead   []uint64
	}{
		{name: "whole_batch", script: sinktest.FailFirst(1, datastore.Permanent(rejected)), dead: seqTo(10)},
		{name: "some_records", script: sinktest.RejectIf(func(_ int, r datastore.Record) error {
			if r.WAL.GetVin() == "VIN2" {
				return datastore.Permanent(rejected)
			}
			return nil
		}), dead: []uint64{2, 5, 8, 11, 14, 17, 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, sinktest.New("kafka", tt.script), testConfig())
				stop := h.start(t.Context())
				appendMixed(h, 20)
				h.waitCursor(20)
				require.NoError(t, stop())
				var dead []uint64
				for _, d := range h.dl.all() {
					dead = append(dead, d.Index)
					require.Equal(t, 3, d.Partition)
					require.Contains(t, d.Reason, "schema rejected")
					var r walpb.Record
					require.NoError(t, proto.Unmarshal(d.Data, &r))
					require.NotEmpty(t, r.GetVin())
				}
				require.Equal(t, tt.dead, dead)
				require.Len(t, h.sink.Accepted(), 20-len(tt.dead))
				require.Equal(t, uint64(len(tt.dead)), h.p.Status().DeadLettered)
			})
		})
	}
}

func TestThrottleWaitIsHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var calls []time.Time
		sink := sinktest.New("kinesis", func(call int, _ []datastore.Record) error {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, time.Now())
			if call == 1 {
				return datastore.RetryAfter(sinktest.ErrUnavailable, 7*time.Second)
			}
			return nil
		})
		h := newHarness(t, sink, testConfig())
		stop := h.start(t.Context())
		appendMixed(h, 3)
		h.waitCursor(3)
		require.NoError(t, stop())
		require.Len(t, calls, 2)
		require.GreaterOrEqual(t, calls[1].Sub(calls[0]), 7*time.Second)
	})
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var calls []time.Time
		sink := sinktest.New("pubsub", func(call int, _ []datastore.Record) error {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, time.Now())
			if call <= 12 {
				return sinktest.ErrUnavailable
			}
			return nil
		})
		h := newHarness(t, sink, testConfig())
		stop := h.start(t.Context())
		appendMixed(h, 1)
		h.waitCursor(1)
		require.NoError(t, stop())
		require.Len(t, calls, 13)
		first, last := calls[1].Sub(calls[0]), calls[12].Sub(calls[11])
		require.InDelta(t, 100*time.Millisecond, first, float64(25*time.Millisecond))
		require.LessOrEqual(t, last, 2400*time.Millisecond, "capped at max_interval plus jitter")
		require.GreaterOrEqual(t, last, 1600*time.Millisecond)
	})
}

func TestUnroutedTopicsAreSkippedButCommitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, sinktest.New("mqtt", nil), testConfig())
		for i := 1; i <= 30; i++ {
			if i%3 == 0 || i > 25 {
				h.skipped[uint64(i)] = true
			}
		}
		stop := h.start(t.Context())
		for i := 1; i <= 30; i++ {
			topic := "V"
			if h.skipped[uint64(i)] {
				topic = "errors"
			}
			h.log.appendRecords(rec("VIN", topic, i))
		}
		h.waitCursor(30)
		require.NoError(t, stop())
		for _, r := range h.sink.Accepted() {
			require.Equal(t, "V", r.WAL.GetTopic())
		}
		require.Len(t, h.sink.Accepted(), 30-len(h.skipped))
	})
}

func TestUndecodableEntryIsDeadLettered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, sinktest.New("kafka", nil), testConfig())
		stop := h.start(t.Context())
		h.log.appendRecords(rec("A", "V", 1))
		h.log.append([]byte{0xff, 0xff, 0xff})
		h.log.appendRecords(rec("A", "V", 3))
		h.waitCursor(3)
		require.NoError(t, stop())
		require.Len(t, h.dl.all(), 1)
		require.Equal(t, uint64(2), h.dl.all()[0].Index)
		require.Contains(t, h.dl.all()[0].Reason, "undecodable")
		require.Len(t, h.sink.Accepted(), 2)
	})
}

func TestCorruptEntryStopsThePartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, sinktest.New("kafka", nil), testConfig())
		h.log.failAt, h.log.failErr = 6, fmt.Errorf("segment 1 offset 99: %w", pipeline.ErrCorrupt)
		appendMixed(h, 9)
		err := h.p.Run(t.Context())
		require.ErrorIs(t, err, pipeline.ErrCorrupt)
		require.Equal(t, uint64(5), h.cur.get(), "entries before the damage are delivered and committed")
		require.Len(t, h.sink.Accepted(), 5)
		require.Contains(t, h.p.Status().Stopped, "corrupt")
	})
}

func TestShutdown(t *testing.T) {
	tests := []struct {
		name       string
		sink       *sinktest.Sink
		wantCursor uint64
	}{
		{name: "finishes_batch_in_flight", sink: sinktest.New("kafka", nil).WithDelay(2 * time.Second), wantCursor: 5},
		{name: "gives_up_after_timeout", sink: sinktest.New("kafka", sinktest.FailFirst(1<<30, sinktest.ErrUnavailable)), wantCursor: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, tt.sink, testConfig())
				stop := h.start(t.Context())
				appendMixed(h, 5)
				for h.sink.Calls() == 0 {
					time.Sleep(time.Millisecond)
				}
				start := time.Now()
				require.NoError(t, stop())
				require.LessOrEqual(t, time.Since(start), testConfig().ShutdownTimeout)
				require.Equal(t, tt.wantCursor, h.cur.get())
			})
		})
	}
}

func TestResumesAfterCursor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, sinktest.New("kafka", nil), testConfig())
		appendMixed(h, 20)
		h.cur.index = 12
		for i := uint64(1); i <= 12; i++ {
			h.skipped[i] = true // delivered by an earlier run
		}
		stop := h.start(t.Context())
		h.waitCursor(20)
		require.NoError(t, stop())
		got := h.sink.Accepted()
		require.Len(t, got, 8)
		require.Equal(t, uint64(13), got[0].Index)
	})
}
