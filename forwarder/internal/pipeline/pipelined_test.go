package pipeline_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/sinktest"
)

// pipelinedConfig keeps up to three batches of four records in flight.
func pipelinedConfig() pipeline.Config {
	cfg := testConfig()
	cfg.BatchMaxRecords = 4
	cfg.Prefetch = 3
	return cfg
}

func TestPipelinedDeliversEveryRecordInOrderPerVIN(t *testing.T) {
	const n = 95
	rejected := errors.New("schema rejected")
	tests := []struct {
		name      string
		script    sinktest.Script
		exactOnce bool
		dead      int
	}{
		{name: "healthy", exactOnce: true},
		{name: "outage_mid_stream", script: func(call int, _ []datastore.Record) error {
			if call >= 4 && call <= 9 {
				return sinktest.ErrUnavailable
			}
			return nil
		}},
		{name: "throttled_mid_stream", script: func(call int, _ []datastore.Record) error {
			if call == 5 {
				return datastore.RetryAfter(sinktest.ErrUnavailable, time.Second)
			}
			return nil
		}},
		{name: "partial_failures", script: firstAttemptFails(func(i uint64) bool { return i%7 == 0 }, sinktest.ErrUnavailable)},
		{name: "partial_failures_throttled", script: firstAttemptFails(func(i uint64) bool { return i%10 == 3 },
			datastore.RetryAfter(sinktest.ErrUnavailable, 2*time.Second))},
		{name: "permanent_rejections", script: sinktest.RejectIf(func(_ int, r datastore.Record) error {
			if r.Index%11 == 0 {
				return datastore.Permanent(rejected)
			}
			return nil
		}), dead: n / 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sink := newOrderedSink(tt.script, 50*time.Millisecond)
				h := newHarness(t, sink, pipelinedConfig())
				stop := h.start(t.Context())
				want := appendMixed(h, n)
				h.waitCursor(n)
				require.NoError(t, stop())
				var delivered []uint64
				for _, i := range want {
					if tt.dead == 0 || i%11 != 0 {
						delivered = append(delivered, i)
					}
				}
				requireLastDeliveryInOrder(t, sink.Accepted(), delivered)
				require.Len(t, h.dl.all(), tt.dead)
				require.Greater(t, sink.MaxInFlight(), 1, "batches overlap")
				require.LessOrEqual(t, sink.MaxInFlight(), pipelinedConfig().Prefetch)
				if tt.exactOnce {
					require.Len(t, sink.Accepted(), n, "no duplicates without failures")
				}
				t.Logf("%d records, %d deliveries, %d submits, at most %d in flight", n, len(sink.Accepted()), sink.Calls(), sink.MaxInFlight())
			})
		})
	}
}

// deliverSixFailingOnce runs six records in batches of two through a
// pipelined sink whose first attempt at record failAt fails, and returns
// the sink and the indexes it accepted, in order.
func deliverSixFailingOnce(t *testing.T, failAt uint64) (*orderedSink, *harness, []uint64) {
	cfg := pipelinedConfig()
	cfg.BatchMaxRecords = 2
	sink := newOrderedSink(firstAttemptFails(func(i uint64) bool { return i == failAt }, sinktest.ErrUnavailable), time.Second)
	h := newHarness(t, sink, cfg)
	h.log.appendRecords(rec("A", "V", 1), rec("B", "V", 2), rec("A", "V", 3), rec("B", "V", 4), rec("A", "V", 5), rec("B", "V", 6))
	stop := h.start(t.Context())
	h.waitCursor(6)
	require.NoError(t, stop())
	var got []uint64
	for _, r := range sink.Accepted() {
		got = append(got, r.Index)
	}
	return sink, h, got
}

func TestPipelinedFailureResendsEveryLaterBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, h, got := deliverSixFailingOnce(t, 1)
		// Three batches in flight: 1 fails, 2..6 land. Then 1 is retried
		// and the later batches are sent again, whole and in order.
		require.Equal(t, []uint64{2, 3, 4, 5, 6, 1, 3, 4, 5, 6}, got)
		require.Equal(t, uint64(5), h.p.Status().Retried, "record 1 and the four records of the two later batches")
	})
}

func TestPipelinedFailureOfLaterBatchOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink, _, got := deliverSixFailingOnce(t, 4)
		// Batch 1 is confirmed; batch 2 fails on 4 while batch 3 landed:
		// 4 is retried, then batch 3 is sent again.
		require.Equal(t, []uint64{1, 2, 3, 5, 6, 4, 5, 6}, got)
		requireLastDeliveryInOrder(t, sink.Accepted(), seqTo(6))
	})
}

func TestPipelinedShutdownSettlesBatchesInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := pipelinedConfig()
		cfg.BatchMaxRecords = 2
		sink := newOrderedSink(nil, 2*time.Second)
		h := newHarness(t, sink, cfg)
		stop := h.start(t.Context())
		appendMixed(h, 5)
		for sink.Calls() < 3 {
			time.Sleep(time.Millisecond)
		}
		require.NoError(t, stop())
		require.Equal(t, uint64(5), h.cur.get(), "the three batches in flight are confirmed and committed")
	})
}

func TestPipelinedShutdownTimeoutLeavesUnconfirmedBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := pipelinedConfig()
		cfg.BatchMaxRecords = 2
		sink := newOrderedSink(nil, time.Hour)
		h := newHarness(t, sink, cfg)
		stop := h.start(t.Context())
		appendMixed(h, 5)
		for sink.Calls() < 3 {
			time.Sleep(time.Millisecond)
		}
		start := time.Now()
		require.NoError(t, stop())
		require.LessOrEqual(t, time.Since(start), cfg.ShutdownTimeout)
		require.Equal(t, uint64(0), h.cur.get())
	})
}
