package wal

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// retentionOpts never runs the periodic pass, so tests call Retain.
func retentionOpts(consumers ...string) Options {
	return Options{SegmentSize: 512, NoSync: true, Consumers: consumers, RetentionInterval: time.Hour}
}

func appendN(t *testing.T, l *Log, n int) {
	t.Helper()
	for i := range n {
		_, err := l.Append(t.Context(), nil, fmt.Appendf(nil, "%050d", i))
		require.NoError(t, err)
	}
}

func commit(t *testing.T, dir, consumer string, index uint64) {
	t.Helper()
	c, err := OpenCursor(dir, consumer, 0)
	require.NoError(t, err)
	require.NoError(t, c.Commit(index))
}

func TestRetentionFollowsLowestCursor(t *testing.T) {
	tests := []struct {
		name      string
		consumers []string
		cursors   map[string]uint64
		wantFirst func(first uint64) bool
	}{
		{name: "lowest_of_two", consumers: []string{"a", "b"}, cursors: map[string]uint64{"a": 180, "b": 60},
			wantFirst: func(f uint64) bool { return f > 1 && f <= 61 }},
		{name: "consumer_without_cursor_holds_all", consumers: []string{"a", "b"}, cursors: map[string]uint64{"a": 180},
			wantFirst: func(f uint64) bool { return f == 1 }},
		{name: "no_consumers_keeps_all", cursors: map[string]uint64{"a": 180},
			wantFirst: func(f uint64) bool { return f == 1 }},
		{name: "all_delivered_keeps_tail", consumers: []string{"a"}, cursors: map[string]uint64{"a": 200},
			wantFirst: func(f uint64) bool { return f > 150 && f <= 201 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, retentionOpts(tc.consumers...))
			appendN(t, l, 200)
			for c, v := range tc.cursors {
				commit(t, dir, c, v)
			}
			require.NoError(t, l.Retain())
			st, err := StatPartition(dir, 0)
			require.NoError(t, err)
			require.True(t, tc.wantFirst(st.FirstIndex), "first retained index %d", st.FirstIndex)
			got := readFrom(t, dir, st.FirstIndex-1)
			require.Len(t, got, int(200-st.FirstIndex+1))
			pos, err := l.Append(t.Context(), nil, []byte("more"))
			require.NoError(t, err)
			require.Equal(t, uint64(201), pos.Index)
		})
	}
}

func readFrom(t *testing.T, dir string, after uint64) []uint64 {
	t.Helper()
	r, err := OpenReader(dir, 0, after)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	var idx []uint64
	for {
		e, err := r.Next()
		if err != nil {
			return idx
		}
		idx = append(idx, e.Index)
	}
}

func TestDiskBudget(t *testing.T) {
	dir := t.TempDir()
	opts := retentionOpts("sink")
	opts.DiskBudgetBytes = 4096
	l := openTest(t, dir, opts)
	var last uint64
	var err error
	for range 1000 {
		var pos Position
		if pos, err = l.Append(t.Context(), nil, make([]byte, 50)); err != nil {
			break
		}
		last = pos.Index
	}
	require.ErrorIs(t, err, ErrFull)
	st, serr := StatPartition(dir, 0)
	require.NoError(t, serr)
	require.Equal(t, uint64(1), st.FirstIndex, "nothing undelivered is deleted")
	require.LessOrEqual(t, st.Bytes, opts.DiskBudgetBytes)

	commit(t, dir, "sink", last)
	require.NoError(t, l.Retain())
	_, err = l.Append(t.Context(), nil, make([]byte, 50))
	require.NoError(t, err)
}

func TestDropOldestCountsDroppedRecords(t *testing.T) {
	dir := t.TempDir()
	reader := sdkmetric.NewManualReader()
	opts := retentionOpts("sink")
	opts.DiskBudgetBytes = 4096
	opts.Overflow = DropOldest
	opts.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	l := openTest(t, dir, opts)
	appendN(t, l, 500)
	st, err := StatPartition(dir, 0)
	require.NoError(t, err)
	require.LessOrEqual(t, st.Bytes, opts.DiskBudgetBytes)
	require.Greater(t, st.FirstIndex, uint64(1))
	require.Equal(t, int64(st.FirstIndex-1), counterValue(t, reader, "fleetrelay_wal_dropped_records_total"))
	require.Equal(t, int64(500), counterValue(t, reader, "fleetrelay_wal_appended_records_total"))
	_, err = OpenTailer(dir, 0, 0, TailerOptions{})
	require.ErrorIs(t, err, ErrTruncated)
}

func counterValue(t *testing.T, r sdkmetric.Reader, name string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, dp := range sum.DataPoints {
					total += dp.Value
				}
			}
		}
	}
	return total
}

func TestConsumerLagMetric(t *testing.T) {
	dir := t.TempDir()
	reader := sdkmetric.NewManualReader()
	opts := retentionOpts("a", "b")
	opts.DiskBudgetBytes = 1 << 20
	opts.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	l := openTest(t, dir, opts)
	appendN(t, l, 50)
	commit(t, dir, "a", 20)
	require.NoError(t, l.Retain())
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	lag := map[string]int64{}
	var disk, budget int64 = 0, -1
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			g, ok := m.Data.(metricdata.Gauge[int64])
			if !ok {
				continue
			}
			for _, dp := range g.DataPoints {
				if c, ok := dp.Attributes.Value("consumer"); ok && m.Name == "fleetrelay_wal_consumer_lag_records" {
					lag[c.AsString()] = dp.Value
				}
				switch m.Name {
				case "fleetrelay_wal_disk_bytes":
					disk = dp.Value
				case "fleetrelay_wal_disk_budget_bytes":
					budget = dp.Value
				}
			}
		}
	}
	require.Equal(t, map[string]int64{"a": 30, "b": 50}, lag)
	st, err := StatPartition(dir, 0)
	require.NoError(t, err)
	require.Equal(t, st.Bytes, disk)
	require.Equal(t, opts.DiskBudgetBytes, budget, "the budget gauge reports Options.DiskBudgetBytes")
}

// TestTailerOverrunByDropOldest lets the DropOldest policy delete segments
// a Tailer has not read yet: the Tailer must report ErrTruncated, not skip.
func TestTailerOverrunByDropOldest(t *testing.T) {
	dir := t.TempDir()
	opts := retentionOpts()
	opts.DiskBudgetBytes = 4096
	opts.Overflow = DropOldest
	l := openTest(t, dir, opts)
	appendN(t, l, 5)
	tl, err := OpenTailer(dir, 0, 0, TailerOptions{})
	require.NoError(t, err)
	defer func() { require.NoError(t, tl.Close()) }()
	_, err = tl.Next(t.Context())
	require.NoError(t, err)
	appendN(t, l, 500)
	for {
		_, err = tl.Next(t.Context())
		if err != nil {
			break
		}
	}
	require.ErrorIs(t, err, ErrTruncated)
}
