package ingest_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// collect returns every int64 sum data point as "name{label=value,...}" → value.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, "metric %s is not an int64 sum", m.Name)
			for _, dp := range sum.DataPoints {
				key := m.Name + "{"
				for i, kv := range dp.Attributes.ToSlice() {
					if i > 0 {
						key += ","
					}
					key += string(kv.Key) + "=" + kv.Value.AsString()
				}
				got[key+"}"] += dp.Value
			}
		}
	}
	return got
}

func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	p, err := ingest.NewProcessor(ingest.Config{Topics: []string{"V", "connectivity"},
		RateLimit: ratelimit.Config{Enabled: true, MessageLimit: 4, MessageIntervalTime: 60}},
		ingest.Settings{MeterProvider: mp})
	require.NoError(t, err)

	stored := p.Process(frameSpec{txid: "t", topic: "V", payload: vPayload(t, "")}.build(), testConn(), testNow)
	p.Process(nil, testConn(), testNow)
	p.Process([]byte("garbage"), testConn(), testNow)
	p.Process(frameSpec{txid: "t", topic: "canlogs", sender: testVIN}.build(), testConn(), testNow)
	p.Process(nil, testConn(), testNow)
	p.Connectivity(testConn(), vehiclepb.ConnectivityEvent_CONNECTED, testNow)

	require.Equal(t, map[string]int64{
		"fleetrelay_gateway_ingest_frames{action=store,reason=stored}":           1,
		"fleetrelay_gateway_ingest_frames{action=ack,reason=empty}":              1,
		"fleetrelay_gateway_ingest_frames{action=error,reason=malformed}":        1,
		"fleetrelay_gateway_ingest_frames{action=ack,reason=unconfigured_topic}": 1,
		"fleetrelay_gateway_ingest_frames{action=drop,reason=rate_limited}":      1,
		"fleetrelay_gateway_ingest_stored_payload_bytes{topic=V}":                int64(len(storedRecord(t, stored).GetPayload())),
		"fleetrelay_gateway_ingest_connectivity_records{status=CONNECTED}":       1,
		"fleetrelay_gateway_rate_limited_records{}":                              1,
		"fleetrelay_gateway_rate_limit_tracked_vins{}":                           1,
	}, collect(t, reader))
}
