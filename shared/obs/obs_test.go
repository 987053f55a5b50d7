package obs_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/fleetrelay/fleetrelay/shared/obs"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		name string
		want slog.Level
		err  bool
	}{
		{"", slog.LevelInfo, false},
		{"trace", obs.LevelTrace, false},
		{"DEBUG", slog.LevelDebug, false},
		{"warning", slog.LevelWarn, false},
		{"panic", slog.LevelError, false},
		{"verbose", 0, true},
	}
	for _, tt := range tests {
		t.Run("level_"+tt.name, func(t *testing.T) {
			got, err := obs.ParseLevel(tt.name)
			if tt.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNewLoggerJSON(t *testing.T) {
	var buf bytes.Buffer
	log, err := obs.NewLogger(&buf, "warn", true)
	require.NoError(t, err)
	log.Info("hidden")
	log.Warn("shown", "record_type", "V")
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "shown", line["msg"])
	require.Equal(t, "V", line["record_type"])
}

func TestNewLoggerText(t *testing.T) {
	var buf bytes.Buffer
	log, err := obs.NewLogger(&buf, "debug", false)
	require.NoError(t, err)
	log.Debug("hello", "vin", "X")
	require.Contains(t, buf.String(), "msg=hello vin=X")
}

func TestMetricsServedWithUnitSuffixes(t *testing.T) {
	m, err := obs.NewMetrics()
	require.NoError(t, err)
	meter := m.MeterProvider().Meter("test")
	c, err := meter.Int64Counter("fleetrelay_gateway_records", metric.WithUnit("{record}"))
	require.NoError(t, err)
	h, err := meter.Float64Histogram("fleetrelay_gateway_append_duration", metric.WithUnit("s"))
	require.NoError(t, err)
	c.Add(t.Context(), 3)
	h.Record(t.Context(), 0.002)

	srv, err := obs.Serve("127.0.0.1:0", obs.MetricsMux(m), nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Shutdown(t.Context())) }()
	body := get(t, "http://"+srv.Addr()+"/metrics")
	require.Contains(t, body, "fleetrelay_gateway_records_total 3")
	require.Contains(t, body, "fleetrelay_gateway_append_duration_seconds_count 1")
	require.Contains(t, body, "process_resident_memory_bytes")
	require.NoError(t, m.Shutdown(t.Context()))
}

func TestStatusHandler(t *testing.T) {
	srv, err := obs.Serve("127.0.0.1:0", obs.StatusHandler("ok"), nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Shutdown(t.Context())) }()
	require.Equal(t, "ok", get(t, "http://"+srv.Addr()+"/status"))
}

func TestServeBindError(t *testing.T) {
	srv, err := obs.Serve("127.0.0.1:0", obs.StatusHandler("ok"), nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Shutdown(t.Context())) }()
	_, err = obs.Serve(srv.Addr(), obs.StatusHandler("ok"), nil)
	require.ErrorContains(t, err, "listen")
}

func get(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

func TestProfilerMux(t *testing.T) {
	srv, err := obs.Serve("127.0.0.1:0", obs.ProfilerMux(), nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Shutdown(t.Context())) }()
	require.Contains(t, get(t, "http://"+srv.Addr()+"/debug/pprof/"), "goroutine")
}
