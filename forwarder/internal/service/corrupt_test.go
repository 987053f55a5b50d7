package service_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/fleetrelay/fleetrelay/forwarder/internal/service"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/sinktest"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/status"
	"github.com/fleetrelay/fleetrelay/wal"
)

// counter returns the sum of a counter's points whose attributes include
// every key=value of want.
func counter(t *testing.T, rm metricdata.ResourceMetrics, name string, want map[string]string) int64 {
	t.Helper()
	var sum int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			data, ok := m.Data.(metricdata.Sum[int64])
			if m.Name != name || !ok {
				continue
			}
			for _, dp := range data.DataPoints {
				match := true
				for k, v := range want {
					got, ok := dp.Attributes.Value(attribute.Key(k))
					match = match && ok && got.AsString() == v
				}
				if match {
					sum += dp.Value
				}
			}
		}
	}
	return sum
}

func TestCorruptEntryIsSurfacedAndDeliveryStopsThere(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.WAL.Partitions = 1
	l, err := wal.Open(dir, wal.Options{Partitions: 1, NoSync: true})
	require.NoError(t, err)
	appendRecords(t.Context(), t, l, 0, 60)
	require.NoError(t, l.Close())
	segs, err := filepath.Glob(filepath.Join(dir, "p000", "0*"))
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	b, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	b[len(b)/2] ^= 0x55 // inside an entry near the middle
	require.NoError(t, os.WriteFile(segs[0], b, 0o644))

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	sk := &sinks{all: map[string]*sinktest.Sink{}}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		require.NoError(t, service.Run(ctx, cfg, []string{"mqtt"}, service.Settings{NewSink: sk.new, MeterProvider: mp}))
	})
	var st status.Partition
	require.Eventually(t, func() bool {
		st, err = status.Read(service.StateDir(cfg, "mqtt"), 0)
		return err == nil && st.Stopped != ""
	}, 10*time.Second, 10*time.Millisecond)
	require.Contains(t, st.Stopped, "corrupt")

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	require.Positive(t, counter(t, rm, "fleetrelay_forwarder_read_errors", map[string]string{"reason": "corruption", "sink": "mqtt"}))
	lag, ok := gauge(rm, "fleetrelay_forwarder_lag_records")
	require.True(t, ok, "lag is reported while the partition is stuck")
	require.Positive(t, lag, "the entries behind the damage are lag")
	cancel()
	wg.Wait()

	accepted := sk.get("mqtt").Accepted()
	require.NotEmpty(t, accepted, "entries before the damage are delivered")
	require.Less(t, len(accepted), 60, "nothing after the damage is delivered")
	for i, r := range accepted {
		require.Equal(t, uint64(i+1), r.Index, "delivered in order with no gap")
	}
	c, err := wal.OpenCursor(dir, "mqtt", 0)
	require.NoError(t, err)
	v, err := c.Load()
	require.NoError(t, err)
	require.Equal(t, uint64(len(accepted)), v, "the cursor stops before the damaged entry")
}

// gauge returns the first point of an int64 gauge.
func gauge(rm metricdata.ResourceMetrics, name string) (int64, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == name && len(g.DataPoints) > 0 {
				return g.DataPoints[0].Value, true
			}
		}
	}
	return 0, false
}
