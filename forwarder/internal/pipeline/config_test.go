package pipeline_test

import (
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/sinktest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// sizedSink is a sink that prefers batches of size records.
type sizedSink struct {
	*sinktest.Sink
	size int
}

func (s sizedSink) BatchMaxRecords() int { return s.size }

func TestConfigFromBatchMaxRecords(t *testing.T) {
	plain := sinktest.New("logger", nil)
	large := sizedSink{Sink: sinktest.New("kafka", nil), size: 2000}
	small := sizedSink{Sink: sinktest.New("kinesis", nil), size: 500}
	tests := []struct {
		name       string
		configured int
		sink       datastore.Sink
		want       int
	}{
		{name: "unset_sink_without_preference", sink: plain, want: config.DefaultBatchMaxRecords},
		{name: "unset_large_sink", sink: large, want: 2000},
		{name: "unset_small_sink", sink: small, want: 500},
		{name: "explicit_plain_sink", configured: 1200, sink: plain, want: 1200},
		{name: "explicit_overrides_large_sink", configured: 100, sink: large, want: 100},
		{name: "explicit_overrides_small_sink", configured: 1200, sink: small, want: 1200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := config.ForwarderConfig{BatchMaxRecords: tt.configured}
			cfg := pipeline.ConfigFrom(fc, tt.sink, 2, []string{"V"})
			require.Equal(t, tt.want, cfg.BatchMaxRecords)
			require.Equal(t, 2, cfg.Partition)
			require.Equal(t, config.DefaultBatchMaxBytes, cfg.BatchMaxBytes, "other limits keep their defaults")
			require.Equal(t, config.DefaultPrefetchBatches, cfg.Prefetch)
			_, err := pipeline.New(cfg, pipeline.Settings{Sink: tt.sink, Open: newMemLog().open,
				Cursor: &memCursor{}, DeadLetters: &memDeadLetters{}})
			require.NoError(t, err)
		})
	}
}

// TestSinkBatchSizeApplies runs a pipeline configured without
// batch_max_records for a sink that prefers batches of 3: no Write gets more.
func TestSinkBatchSizeApplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var largest atomic.Int64
		sink := sizedSink{size: 3, Sink: sinktest.New("kafka", func(_ int, batch []datastore.Record) error {
			if n := int64(len(batch)); n > largest.Load() {
				largest.Store(n)
			}
			return nil
		})}
		cfg := pipeline.ConfigFrom(config.ForwarderConfig{}, sink, 3, []string{"V", "alerts"})
		h := newHarness(t, sink, cfg)
		for i := 1; i <= 10; i++ {
			h.log.appendRecords(rec("VIN0", "V", i))
		}
		stop := h.start(t.Context())
		h.waitCursor(10)
		require.NoError(t, stop())
		require.Len(t, sink.Accepted(), 10)
		require.Equal(t, int64(3), largest.Load(), "10 records in batches of at most 3")
		require.GreaterOrEqual(t, sink.Calls(), 4)
	})
}
