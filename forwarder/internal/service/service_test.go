package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/service"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/sinktest"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/status"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/wal"
)

func testConfig(dir string) *config.Config {
	return &config.Config{
		Records: map[string][]string{"V": {"kafka", "mqtt"}, "alerts": {"mqtt"}},
		WAL:     config.WALConfig{Dir: dir, Partitions: 4},
		Forwarder: config.ForwarderConfig{
			BatchMaxRecords: 50, BatchLingerMs: 2, PartitionRebalanceIntervalMs: 20, StatusIntervalMs: 20,
			Retry: config.RetryConfig{InitialIntervalMs: 5, MaxIntervalMs: 50},
		},
	}
}

// appendRecords appends n records spread over vins, alternating topics.
func appendRecords(ctx context.Context, t *testing.T, l *wal.Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		vin := fmt.Sprintf("VIN%03d", i%17)
		topic := "V"
		if i%5 == 0 {
			topic = "alerts"
		}
		b, err := proto.Marshal(&walpb.Record{Vin: vin, Topic: topic, Txid: []byte(fmt.Sprint(i)), ReceivedAtMs: time.Now().UnixMilli()})
		require.NoError(t, err)
		_, err = l.Append(ctx, []byte(vin), b)
		require.NoError(t, err)
	}
}

type sinks struct {
	mu  sync.Mutex
	all map[string]*sinktest.Sink
	// script is used for every sink built.
	script func(name string) sinktest.Script
}

func (s *sinks) new(_ context.Context, name string) (datastore.Sink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var script sinktest.Script
	if s.script != nil {
		script = s.script(name)
	}
	sk := sinktest.New(name, script)
	s.all[name] = sk
	return sk, nil
}

func (s *sinks) get(name string) *sinktest.Sink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all[name]
}

func uniqueTxids(recs []datastore.Record) map[string]bool {
	out := map[string]bool{}
	for _, r := range recs {
		out[string(r.WAL.GetTxid())] = true
	}
	return out
}

func TestForwardsWALWhileItIsWritten(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	l, err := wal.Open(dir, wal.Options{Partitions: 4, NoSync: true})
	require.NoError(t, err)
	defer l.Close()
	appendRecords(t.Context(), t, l, 0, 300)

	sk := &sinks{all: map[string]*sinktest.Sink{}, script: func(name string) sinktest.Script {
		if name == "kafka" {
			return sinktest.FailFirst(5, sinktest.ErrUnavailable) // an outage at start
		}
		return nil
	}}
	ctx, cancel := context.WithCancel(t.Context())
	var runErr error
	var wg sync.WaitGroup
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	wg.Go(func() {
		runErr = service.Run(ctx, cfg, []string{"kafka", "mqtt"}, service.Settings{NewSink: sk.new, MeterProvider: mp})
	})

	appendRecords(t.Context(), t, l, 300, 700) // the gateway keeps writing
	require.Eventually(t, func() bool {
		k, m := sk.get("kafka"), sk.get("mqtt")
		return k != nil && m != nil && len(uniqueTxids(k.Accepted())) == 800 && len(uniqueTxids(m.Accepted())) == 1000
	}, 20*time.Second, 10*time.Millisecond)
	cancel()
	wg.Wait()
	require.NoError(t, runErr)
	require.True(t, sk.get("kafka").Closed())
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	require.GreaterOrEqual(t, counter(t, rm, "fleetrelay_forwarder_delivered_records", map[string]string{"sink": "mqtt"}), int64(1000))
	require.Positive(t, counter(t, rm, "fleetrelay_forwarder_failed_records", map[string]string{"sink": "kafka", "reason": "transient"}))
	require.Positive(t, counter(t, rm, "fleetrelay_forwarder_retried_records", map[string]string{"sink": "kafka"}))
	require.Zero(t, counter(t, rm, "fleetrelay_forwarder_failed_records", map[string]string{"sink": "mqtt"}))

	var committed uint64
	for p := range 4 {
		c, err := wal.OpenCursor(dir, "mqtt", p)
		require.NoError(t, err)
		v, err := c.Load()
		require.NoError(t, err)
		committed += v
		st, err := status.Read(service.StateDir(cfg, "mqtt"), p)
		require.NoError(t, err)
		require.Equal(t, v, st.Cursor, "the final status shows the committed cursor")
	}
	require.Equal(t, uint64(1000), committed, "mqtt cursors cover every entry")
}

func TestSelectSinks(t *testing.T) {
	cfg := testConfig(t.TempDir())
	tests := []struct {
		name      string
		requested []string
		defaults  []string
		want      []string
		wantErr   string
	}{
		{name: "all_routed", want: []string{"kafka", "mqtt"}},
		{name: "flag", requested: []string{"mqtt"}, want: []string{"mqtt"}},
		{name: "config_default", defaults: []string{"kafka"}, want: []string{"kafka"}},
		{name: "not_routed", requested: []string{"kinesis"}, wantErr: `sink "kinesis"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg.Forwarder.Sinks = tt.defaults
			got, err := service.SelectSinks(cfg, tt.requested)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	require.Equal(t, []string{"V", "alerts"}, service.Topics(cfg, "mqtt"))
}
