package logger

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

func TestLoggerMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	s, err := New(&config.LoggerConfig{File: filepath.Join(t.TempDir(), "log")}, datastore.Settings{MeterProvider: mp})
	require.NoError(t, err)
	batch := datastoretest.Synthetic(t, 1, 5, 2)
	batch[4].WAL.Topic = "canlogs"
	require.Error(t, s.Write(t.Context(), batch))

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, m.Name)
			for _, dp := range sum.DataPoints {
				got[m.Name] += dp.Value
			}
		}
	}
	require.Equal(t, int64(4), got["fleetrelay_forwarder_logger_sent_records"])
	require.Equal(t, int64(4), got["fleetrelay_forwarder_logger_acked_records"])
	require.Equal(t, int64(1), got["fleetrelay_forwarder_logger_failed_records"])
	require.Positive(t, got["fleetrelay_forwarder_logger_sent_bytes"])
}
