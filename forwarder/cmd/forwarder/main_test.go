package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/service"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/sinktest"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/wal"
)

// childOutDir, when set in the environment, makes the test binary run as a
// forwarder process delivering into FileSinks in that directory.
const childOutDir = "FORWARDER_TEST_OUT_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childOutDir); dir != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, sinks: fileSinks(dir)})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// fileSinks builds durable FileSinks, one file per sink and process.
func fileSinks(dir string) sinkFactory {
	return func(*config.Config, *slog.Logger, metric.MeterProvider) service.NewSink {
		return func(_ context.Context, name string) (datastore.Sink, error) {
			return sinktest.OpenFileSink(name, filepath.Join(dir, fmt.Sprintf("%s.%d.out", name, os.Getpid())))
		}
	}
}

// memSinks hands out in-memory sinks and remembers the last built per name.
type memSinks struct {
	mu     sync.Mutex
	script sinktest.Script
	built  map[string]*sinktest.Sink
}

func (m *memSinks) factory(*config.Config, *slog.Logger, metric.MeterProvider) service.NewSink {
	return func(_ context.Context, name string) (datastore.Sink, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		s := sinktest.New(name, m.script)
		if m.built == nil {
			m.built = map[string]*sinktest.Sink{}
		}
		m.built[name] = s
		return s, nil
	}
}

func (m *memSinks) get(name string) *sinktest.Sink {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.built[name]
}

// fixture is a WAL and a config file pointing at it.
type fixture struct {
	dir, walDir, config string
	partitions          int
	log                 *wal.Log
}

func newFixture(t *testing.T, partitions int, forwarder map[string]any) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir, walDir: filepath.Join(dir, "wal"), config: filepath.Join(dir, "config.json"), partitions: partitions}
	fwd := map[string]any{"batch_max_records": 100, "batch_linger_ms": 2, "partition_rebalance_interval_ms": 50,
		"status_interval_ms": 50, "retry": map[string]any{"initial_interval_ms": 5, "max_interval_ms": 50}}
	for k, v := range forwarder {
		fwd[k] = v
	}
	cfg := map[string]any{
		"port": 4443, "tls": map[string]any{"server_cert": "server.crt", "server_key": "server.key"},
		"records":   map[string]any{"V": []string{"logger", "kinesis"}, "alerts": []string{"logger"}},
		"wal":       map[string]any{"dir": f.walDir, "partitions": partitions},
		"forwarder": fwd, "log_level": "warn",
	}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f.config, b, 0o644))
	return f
}

// openWAL opens the fixture's WAL for writing until the test ends.
func (f *fixture) openWAL(t *testing.T) *wal.Log {
	t.Helper()
	if f.log != nil {
		return f.log
	}
	l, err := wal.Open(f.walDir, wal.Options{Partitions: f.partitions, NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	f.log = l
	return l
}

// testRecord is record number i: VIN i%vins, topic alerts every 10th.
func testRecord(i, vins int) *walpb.Record {
	topic := "V"
	if i%10 == 0 {
		topic = "alerts"
	}
	return &walpb.Record{Vin: fmt.Sprintf("VIN%04d", i%vins), Topic: topic, Txid: []byte(fmt.Sprintf("tx%d", i)),
		ReceivedAtMs: time.Now().UnixMilli()}
}

func appendN(ctx context.Context, t *testing.T, l *wal.Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		r := testRecord(i, 37)
		b, err := proto.Marshal(r)
		require.NoError(t, err)
		_, err = l.Append(ctx, []byte(r.GetVin()), b)
		require.NoError(t, err)
	}
}

// committed sums the sink's cursors over all partitions.
func (f *fixture) committed(t *testing.T, sink string) uint64 {
	t.Helper()
	var sum uint64
	for p := range f.partitions {
		c, err := wal.OpenCursor(f.walDir, sink, p)
		require.NoError(t, err)
		v, err := c.Load()
		require.NoError(t, err)
		sum += v
	}
	return sum
}

// runCmd runs a command in-process and returns its exit code and output.
func runCmd(ctx context.Context, sinks sinkFactory, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(ctx, args, env{stdout: &out, stderr: &errOut, sinks: sinks})
	return code, out.String(), errOut.String()
}
