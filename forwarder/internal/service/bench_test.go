package service

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/deadletter"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/wal"
)

// nopSink accepts everything at once: the benchmark measures the pipeline.
type nopSink struct{}

func (nopSink) Name() string                                    { return "nop" }
func (nopSink) Write(context.Context, []datastore.Record) error { return nil }
func (nopSink) Close(context.Context) error                     { return nil }

// backlog writes n records of realistic size into a new WAL with the given
// partitions and returns its directory and total entry bytes.
func backlog(b *testing.B, n, partitions int) (string, int64) {
	b.Helper()
	dir := b.TempDir()
	l, err := wal.Open(dir, wal.Options{Partitions: partitions, NoSync: true})
	require.NoError(b, err)
	payload := typicalPayload(b)
	var total int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 64 { // concurrent appenders fill group commits, like the gateway
		wg.Go(func() {
			for i := w; i < n; i += 64 {
				rec := &walpb.Record{Vin: fmt.Sprintf("5YJ3E1EA%09d", i%5000), Topic: "V", Txid: []byte(fmt.Sprint(i)),
					ReceivedAtMs: time.Now().UnixMilli(), Payload: payload, ConnectionId: "c0ffee"}
				data, err := proto.Marshal(rec)
				require.NoError(b, err)
				_, err = l.Append(context.Background(), []byte(rec.GetVin()), data)
				require.NoError(b, err)
				mu.Lock()
				total += int64(len(data))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.NoError(b, l.Close())
	return dir, total
}

// typicalPayload is a V record payload with a dozen fields of the usual
// kinds (about 200 bytes), which every sink can render.
func typicalPayload(b *testing.B) []byte {
	d := func(k vehiclepb.Field, v *vehiclepb.Value) *vehiclepb.Datum {
		return &vehiclepb.Datum{Key: k, Value: v}
	}
	dbl := func(f float64) *vehiclepb.Value {
		return &vehiclepb.Value{Value: &vehiclepb.Value_DoubleValue{DoubleValue: f}}
	}
	p := &vehiclepb.Payload{
		Vin: "5YJ3E1EA000000001", CreatedAt: timestamppb.New(time.Unix(1700000000, 0)),
		Data: []*vehiclepb.Datum{
			d(vehiclepb.Field_VehicleSpeed, dbl(63.5)),
			d(vehiclepb.Field_Odometer, dbl(12345.6)),
			d(vehiclepb.Field_Soc, dbl(78.25)),
			d(vehiclepb.Field_BatteryLevel, dbl(77.9)),
			d(vehiclepb.Field_EstBatteryRange, dbl(241.3)),
			d(vehiclepb.Field_RatedRange, dbl(250.1)),
			d(vehiclepb.Field_PackVoltage, dbl(398.2)),
			d(vehiclepb.Field_PackCurrent, dbl(-12.4)),
			d(vehiclepb.Field_InsideTemp, dbl(21.5)),
			d(vehiclepb.Field_OutsideTemp, dbl(14)),
			d(vehiclepb.Field_Gear, &vehiclepb.Value{Value: &vehiclepb.Value_ShiftStateValue{ShiftStateValue: vehiclepb.ShiftState_ShiftStateD}}),
			d(vehiclepb.Field_Location, &vehiclepb.Value{Value: &vehiclepb.Value_LocationValue{
				LocationValue: &vehiclepb.LocationValue{Latitude: 37.4219, Longitude: -122.0841}}}),
		},
	}
	data, err := proto.Marshal(p)
	require.NoError(b, err)
	return data
}

type memCursor struct {
	mu sync.Mutex
	v  uint64
}

func (c *memCursor) Load() (uint64, error) { return 0, nil }

func (c *memCursor) Commit(i uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.v = i
	return nil
}

func (c *memCursor) get() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v
}

// BenchmarkBacklog drains a 1,000,000-record WAL backlog into a no-op sink:
// the pipeline's own ceiling (read, CRC check, decode, route, batch,
// deliver, commit). partitions=1 is one pipeline; partitions=4 runs one
// pipeline per partition, all in parallel, with durable cursors.
func BenchmarkBacklog(b *testing.B) {
	const n = 1_000_000
	b.Run("partitions=1", func(b *testing.B) {
		dir, bytes := backlog(b, n, 1)
		b.SetBytes(bytes)
		cpu := cpuTime(b)
		for b.Loop() {
			drainOne(b, dir, n)
		}
		reportRates(b, n, cpuTime(b)-cpu)
	})
	b.Run("partitions=4", func(b *testing.B) {
		dir, bytes := backlog(b, n, 4)
		b.SetBytes(bytes)
		i := 0
		cpu := cpuTime(b)
		for b.Loop() {
			i++
			drainAll(b, dir, 4, fmt.Sprintf("nop%d", i), n)
		}
		reportRates(b, n, cpuTime(b)-cpu)
	})
}

func drainOne(b *testing.B, dir string, n uint64) {
	cur := &memCursor{}
	fc := config.ForwarderConfig{}.WithDefaults()
	p, err := pipeline.New(pipeline.ConfigFrom(fc, nopSink{}, 0, []string{"V"}), pipeline.Settings{
		Sink: nopSink{}, Open: opener(dir, 0, nil), Cursor: cur, DeadLetters: deadletter.NewWriter(b.TempDir(), 0),
	})
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(b.Context())
	var wg sync.WaitGroup
	wg.Go(func() { require.NoError(b, p.Run(ctx)) })
	for cur.get() < n {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
}

func drainAll(b *testing.B, dir string, partitions int, sink string, n uint64) {
	cfg := &config.Config{Records: map[string][]string{"V": {sink}}, WAL: config.WALConfig{Dir: dir},
		Forwarder: config.ForwarderConfig{PartitionRebalanceIntervalMs: 10}}
	ctx, cancel := context.WithCancel(b.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		require.NoError(b, Run(ctx, cfg, []string{sink}, Settings{
			NewSink: func(context.Context, string) (datastore.Sink, error) { return nopSink{}, nil },
		}))
	})
	for committed(b, dir, sink, partitions) < n {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait()
}

func committed(b *testing.B, dir, sink string, partitions int) uint64 {
	var sum uint64
	for p := range partitions {
		c, err := wal.OpenCursor(dir, sink, p)
		require.NoError(b, err)
		v, err := c.Load()
		require.NoError(b, err)
		sum += v
	}
	return sum
}

// reportRates reports records per wall-clock second and per CPU second
// (user+system of the whole process); the second is the steadier figure on
// a shared machine.
func reportRates(b *testing.B, n int, cpu time.Duration) {
	total := float64(n) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(total/cpu.Seconds(), "records/cpu-s")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
