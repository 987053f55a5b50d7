package wal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"golang.org/x/sys/unix"
)

const benchRecordSize = 300

// percentile returns the q-quantile (0..1) of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func reportLatencies(b *testing.B, lat []time.Duration, prefix string) {
	slices.Sort(lat)
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, prefix+"p50_ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, prefix+"p99_ms")
}

// BenchmarkAppend appends 300-byte records from concurrent callers with an
// fsync per group commit, and reports records/s, append latency and
// records per fsync.
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []bool{true, false} {
		for _, parts := range []int{1, 4} {
			for _, callers := range []int{1, 16, 64, 256} {
				name := fmt.Sprintf("sync=%t/partitions=%d/callers=%d", sync, parts, callers)
				b.Run(name, func(b *testing.B) { benchAppend(b, Options{Partitions: parts, NoSync: !sync}, callers) })
			}
		}
	}
}

// BenchmarkAppendNoPreallocate is BenchmarkAppend's sync=true,
// partitions=1 case with Options.Preallocate off: every group commit then
// appends at the end of the segment file, and its fdatasync includes a
// file-system journal commit.
func BenchmarkAppendNoPreallocate(b *testing.B) {
	for _, callers := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			benchAppend(b, Options{Partitions: 1, Preallocate: -1}, callers)
		})
	}
}

// BenchmarkAppendSyncDepth2 is BenchmarkAppend's sync=true, partitions=1
// case with Options.SyncDepth 2: a batch's fdatasync starts while the
// previous one still runs. Run it beside BenchmarkAppend to compare.
func BenchmarkAppendSyncDepth2(b *testing.B) {
	for _, callers := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			benchAppend(b, Options{Partitions: 1, SyncDepth: 2}, callers)
		})
	}
}

func benchAppend(b *testing.B, opts Options, callers int) {
	reader := sdkmetric.NewManualReader()
	opts.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	l, err := Open(b.TempDir(), opts)
	require.NoError(b, err)
	defer func() { require.NoError(b, l.Close()) }()
	data := make([]byte, benchRecordSize)
	tokens := make(chan struct{}, callers)
	lats := make([][]time.Duration, callers)
	var wg sync.WaitGroup
	for c := range callers {
		key := []byte("vin-" + strconv.Itoa(c))
		wg.Go(func() {
			for range tokens {
				t0 := time.Now()
				if _, err := l.Append(context.Background(), key, data); err != nil {
					b.Error(err)
					return
				}
				lats[c] = append(lats[c], time.Since(t0))
			}
		})
	}
	b.SetBytes(benchRecordSize)
	cpu0 := processCPU(b)
	start := time.Now()
	for b.Loop() {
		tokens <- struct{}{}
	}
	close(tokens)
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpu0
	all := slices.Concat(lats...)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(max(len(all), 1)), "cpu_us/record")
	reportLatencies(b, all, "")
	count, sum := histogramTotals(b, reader, "fleetrelay_wal_batch_records")
	b.ReportMetric(float64(sum)/float64(max(count, 1)), "records/fsync")
	b.ReportMetric(fsyncSeconds(b, reader)*1000/float64(max(count, 1)), "fsync_avg_ms")
}

// processCPU returns the user and system CPU time the process has used so
// far. Per record, it tells code changes apart on a machine whose other
// load makes wall-clock rates vary.
func processCPU(b *testing.B) time.Duration {
	var ru unix.Rusage
	require.NoError(b, unix.Getrusage(unix.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fsyncSeconds(b *testing.B, r sdkmetric.Reader) float64 {
	var rm metricdata.ResourceMetrics
	require.NoError(b, r.Collect(context.Background(), &rm))
	var sum float64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "fleetrelay_wal_fsync_duration_seconds" {
				for _, dp := range h.DataPoints {
					sum += dp.Sum
				}
			}
		}
	}
	return sum
}

func histogramTotals(b *testing.B, r sdkmetric.Reader, name string) (count uint64, sum int64) {
	var rm metricdata.ResourceMetrics
	require.NoError(b, r.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[int64]); ok && m.Name == name {
				for _, dp := range h.DataPoints {
					count += dp.Count
					sum += dp.Sum
				}
			}
		}
	}
	return count, sum
}

// BenchmarkRawFsync measures the disk: append 4 KiB at increasing offsets,
// then fdatasync.
func BenchmarkRawFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
	require.NoError(b, err)
	defer func() { require.NoError(b, f.Close()) }()
	buf := make([]byte, 4096)
	var off int64
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		_, err := f.WriteAt(buf, off)
		require.NoError(b, err)
		require.NoError(b, unix.Fdatasync(int(f.Fd())))
		lat = append(lat, time.Since(t0))
		off += int64(len(buf))
	}
	reportLatencies(b, lat, "")
}

// BenchmarkTailer reads durable 300-byte records with a Tailer, as a
// forwarder does, from a log written beforehand.
func BenchmarkTailer(b *testing.B) {
	const records = 100_000
	dir := b.TempDir()
	l, err := Open(dir, Options{NoSync: true})
	require.NoError(b, err)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for range records / 8 {
				_, err := l.Append(context.Background(), []byte{byte(w)}, make([]byte, benchRecordSize))
				require.NoError(b, err)
			}
		})
	}
	wg.Wait()
	require.NoError(b, l.Close())
	b.SetBytes(benchRecordSize)
	var tl *Tailer
	ctx := b.Context()
	for b.Loop() {
		if tl == nil || tl.Position() == records {
			if tl != nil {
				require.NoError(b, tl.Close())
			}
			tl, err = OpenTailer(dir, 0, 0, TailerOptions{})
			require.NoError(b, err)
		}
		if _, err := tl.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	require.NoError(b, tl.Close())
}

// BenchmarkTailLatency appends one record at a time with fsync while a
// Tailer in another process follows; it reports the time from the record's
// append (before its write and fsync) to its delivery in the other process,
// and from the writer's acknowledgement to that delivery.
func BenchmarkTailLatency(b *testing.B) {
	dir := b.TempDir()
	l, err := Open(dir, Options{})
	require.NoError(b, err)
	defer func() { require.NoError(b, l.Close()) }()
	c := startChild(b, "tail", dir, "0")
	data := make([]byte, benchRecordSize)
	_, err = l.Append(context.Background(), nil, data)
	require.NoError(b, err)
	c.firstLine(b) // the other process is tailing
	acks := map[uint64]time.Time{}
	var last uint64
	for b.Loop() {
		pos, err := l.Append(context.Background(), nil, data)
		require.NoError(b, err)
		acks[pos.Index], last = time.Now(), pos.Index
	}
	var fromAppend, fromAck []time.Duration
	for line := range c.lines {
		f := strings.Fields(line)
		idx, _ := strconv.ParseUint(f[0], 10, 64)
		recv, _ := strconv.ParseInt(f[1], 10, 64)
		appended, _ := strconv.ParseInt(f[2], 10, 64)
		fromAppend = append(fromAppend, time.Duration(recv-appended))
		fromAck = append(fromAck, time.Unix(0, recv).Sub(acks[idx]))
		if idx == last {
			break
		}
	}
	c.kill()
	reportLatencies(b, fromAppend, "append_to_tail_")
	reportLatencies(b, fromAck, "ack_to_tail_")
}

// BenchmarkOpenSealedCheck opens a log holding 256 MiB of sealed segments:
// Open walks the length prefixes of every sealed segment (the page cache
// is warm after the first round, so this is the CPU cost of the walk).
func BenchmarkOpenSealedCheck(b *testing.B) {
	const backlog = 256 << 20
	dir := b.TempDir()
	l, err := Open(dir, Options{NoSync: true})
	require.NoError(b, err)
	data := make([]byte, benchRecordSize)
	var pend []*Pending
	for range backlog / (benchRecordSize + frameHeaderSize + 2) {
		q, err := l.Enqueue(nil, data)
		require.NoError(b, err)
		if pend = append(pend, q); len(pend) == 4096 {
			for _, q := range pend {
				_, err := q.Wait(context.Background())
				require.NoError(b, err)
			}
			pend = pend[:0]
		}
	}
	for _, q := range pend {
		_, err := q.Wait(context.Background())
		require.NoError(b, err)
	}
	require.NoError(b, l.Close())
	b.SetBytes(backlog)
	for b.Loop() {
		l, err := Open(dir, Options{NoSync: true})
		require.NoError(b, err)
		require.NoError(b, l.Close())
	}
}
