package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/fleetrelay/fleetrelay/shared/config"
)

func TestForwarderConfigValidate(t *testing.T) {
	neg, big := -0.1, 1.0
	tests := []struct {
		name    string
		cfg     config.ForwarderConfig
		wantKey string
	}{
		{name: "zero_is_defaults"},
		{name: "defaults_applied", cfg: config.ForwarderConfig{}.WithDefaults()},
		{name: "negative_batch", cfg: config.ForwarderConfig{BatchMaxRecords: -1}, wantKey: "forwarder.batch_max_records"},
		{name: "negative_linger", cfg: config.ForwarderConfig{BatchLingerMs: -5}, wantKey: "forwarder.batch_linger_ms"},
		{name: "repeated_sink", cfg: config.ForwarderConfig{Sinks: []string{"kafka", "kafka"}}, wantKey: "forwarder.sinks"},
		{name: "multiplier_below_one", cfg: config.ForwarderConfig{Retry: config.RetryConfig{Multiplier: 0.5}}, wantKey: "forwarder.retry.multiplier"},
		{name: "negative_jitter", cfg: config.ForwarderConfig{Retry: config.RetryConfig{Jitter: &neg}}, wantKey: "forwarder.retry.jitter"},
		{name: "jitter_one", cfg: config.ForwarderConfig{Retry: config.RetryConfig{Jitter: &big}}, wantKey: "forwarder.retry.jitter"},
		{name: "initial_above_max", cfg: config.ForwarderConfig{Retry: config.RetryConfig{InitialIntervalMs: 5000, MaxIntervalMs: 100}}, wantKey: "forwarder.retry.initial_interval_ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantKey == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantKey)
		})
	}
	d := config.ForwarderConfig{}.WithDefaults()
	require.Zero(t, d.BatchMaxRecords, "left to each sink's default")
	require.Equal(t, config.DefaultBatchMaxRecords, d.BatchMaxRecordsFor(0))
	require.InDelta(t, config.DefaultRetryJitter, *d.Retry.Jitter, 1e-9)
}

func TestDatastoreSinks(t *testing.T) {
	cfg := &config.Config{Logger: &config.LoggerConfig{File: filepath.Join(t.TempDir(), "records.log")}}
	newSink := datastoreSinks(cfg, slog.New(slog.DiscardHandler), noop.NewMeterProvider())
	s, err := newSink(t.Context(), "logger")
	require.NoError(t, err)
	require.Equal(t, "logger", s.Name())
	require.NoError(t, s.Close(t.Context()))
	_, err = newSink(t.Context(), "zmq")
	require.ErrorContains(t, err, `"zmq" is not supported`)
}

func TestRunDeliversToTheLoggerSink(t *testing.T) {
	f := newFixture(t, 2, nil)
	out := filepath.Join(f.dir, "records.log")
	raw, err := os.ReadFile(f.config)
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(raw, &cfg))
	cfg["logger"] = map[string]any{"file": out}
	raw, err = json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f.config, raw, 0o644))
	appendN(t.Context(), t, f.openWAL(t), 0, 150)

	ctx, cancel := context.WithCancel(t.Context())
	var code int
	var stderr string
	var wg sync.WaitGroup
	wg.Go(func() { code, _, stderr = runCmd(ctx, datastoreSinks, "-config", f.config, "-sinks", "logger") })
	waitCommitted(t, f, "logger", f.lastIndexes(t))
	cancel()
	wg.Wait()
	require.Equal(t, exitOK, code, stderr)

	b, err := os.ReadFile(out)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 150, "one line per record (V and alerts are routed to logger)")
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		require.Equal(t, "record_payload", m["msg"])
	}
}

func TestMetricsAddress(t *testing.T) {
	mon := &config.MonitoringConfig{PrometheusMetricsPort: 9273, PrometheusMetricsHost: "127.0.0.1"}
	tests := []struct {
		name      string
		mon       *config.MonitoringConfig
		fwdPort   int
		flagValue string
		want      string
	}{
		{name: "default_is_gateway_port_plus_one", mon: mon, want: "127.0.0.1:9274"},
		{name: "configured_port", mon: mon, fwdPort: 9300, want: "127.0.0.1:9300"},
		{name: "configured_off", mon: mon, fwdPort: -1, want: ""},
		{name: "no_monitoring", mon: nil, want: ""},
		{name: "flag_wins", mon: mon, fwdPort: 9300, flagValue: "127.0.0.1:9400", want: "127.0.0.1:9400"},
		{name: "flag_off", mon: mon, flagValue: "off", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Config{Monitoring: tc.mon, Forwarder: config.ForwarderConfig{PrometheusMetricsPort: tc.fwdPort}}
			require.Equal(t, tc.want, metricsAddress(cfg, tc.flagValue))
		})
	}
}

func TestForwarderMetricsPortValidation(t *testing.T) {
	for _, port := range []int{-2, 70000} {
		c := config.ForwarderConfig{PrometheusMetricsPort: port}
		require.ErrorContains(t, c.Validate(), "forwarder.prometheus_metrics_port")
	}
}
