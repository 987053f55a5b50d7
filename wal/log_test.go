package wal

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func openTest(t *testing.T, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func readAll(t *testing.T, dir string, partition int) []Entry {
	t.Helper()
	r, err := OpenReader(dir, partition, 0)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	var out []Entry
	for {
		e, err := r.Next()
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			return out
		}
		e.Data = append([]byte(nil), e.Data...)
		out = append(out, e)
	}
}

func TestAppendReopenRead(t *testing.T) {
	tests := []struct {
		name       string
		partitions int
		segment    int64
		records    int
	}{
		{name: "one_partition", partitions: 1, records: 100},
		{name: "four_partitions_small_segments", partitions: 4, segment: 512, records: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Partitions: tc.partitions, SegmentSize: tc.segment, NoSync: true}
			l := openTest(t, dir, opts)
			want := appendConcurrently(t, l, tc.records, 8)
			require.NoError(t, l.Close())
			l = openTest(t, dir, Options{SegmentSize: tc.segment, NoSync: true})
			require.Equal(t, tc.partitions, l.Partitions())
			for p := range tc.partitions {
				got := readAll(t, dir, p)
				require.Len(t, got, len(want[p]))
				for i, e := range got {
					require.Equal(t, uint64(i+1), e.Index)
					require.Equal(t, want[p][e.Index], string(e.Data))
				}
			}
			pos, err := l.Append(t.Context(), []byte("k"), []byte("after reopen"))
			require.NoError(t, err)
			require.Equal(t, uint64(len(want[pos.Partition])+1), pos.Index)
		})
	}
}

// appendConcurrently appends n records from workers goroutines and returns
// the data stored at each position, per partition.
func appendConcurrently(t *testing.T, l *Log, n, workers int) []map[uint64]string {
	t.Helper()
	want := make([]map[uint64]string, l.Partitions())
	for i := range want {
		want[i] = map[uint64]string{}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				data := fmt.Sprintf("record-%d", i)
				pos, err := l.Append(t.Context(), []byte(fmt.Sprintf("vin-%d", i%13)), []byte(data))
				require.NoError(t, err)
				mu.Lock()
				want[pos.Partition][pos.Index] = data
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return want
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Partitions: 3, NoSync: true})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{name: "partition_mismatch", opts: Options{Partitions: 2}, want: ErrPartitionMismatch},
		{name: "negative_partitions", opts: Options{Partitions: -1}},
		{name: "unknown_overflow", opts: Options{Overflow: Overflow(9)}},
		{name: "invalid_consumer", opts: Options{Consumers: []string{"a/b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(dir, tc.opts)
			require.Error(t, err)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
	m, err := ReadMeta(dir)
	require.NoError(t, err)
	require.Equal(t, 3, m.Partitions)
}

func TestClosedLog(t *testing.T) {
	l, err := Open(t.TempDir(), Options{NoSync: true, Consumers: []string{"c"}})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.NoError(t, l.Close())
	_, err = l.Append(t.Context(), nil, []byte("x"))
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, l.Retain(), ErrClosed)
}

func TestAppendCancelledContext(t *testing.T) {
	l := openTest(t, t.TempDir(), Options{NoSync: true})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := l.Append(ctx, nil, []byte("x"))
	require.ErrorIs(t, err, context.Canceled)
}

// TestRotationMirror checks that the writer's account of the tail segment
// (which decides when the directory is fsynced) matches the files it
// actually writes.
func TestRotationMirror(t *testing.T) {
	l := openTest(t, t.TempDir(), Options{SegmentSize: 700, NoSync: true})
	p := l.parts[0]
	for i := range 300 {
		_, err := l.Append(t.Context(), nil, make([]byte, i%97))
		require.NoError(t, err)
		segs, err := listSegments(p.dir)
		require.NoError(t, err)
		data, err := os.ReadFile(segs[len(segs)-1].path)
		require.NoError(t, err)
		r := scanSegment(data, segs[len(segs)-1].start)
		require.Equal(t, r.valid, p.tailBytes, "after append %d", i)
		require.True(t, allZero(data[r.valid:]), "only zeros after the entries")
	}
}

// TestFailedWritePoisonsPartition makes the write of a batch fail: every
// later append to the partition fails, and reopening recovers.
func TestFailedWritePoisonsPartition(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{NoSync: true})
	require.NoError(t, err)
	_, err = l.Append(t.Context(), nil, []byte("one"))
	require.NoError(t, err)
	p := l.parts[0]
	p.mu.Lock()
	require.NoError(t, p.tail.f.Close())
	p.mu.Unlock()
	for range 2 {
		_, err = l.Append(t.Context(), nil, []byte("two"))
		require.ErrorContains(t, err, "write batch")
	}
	require.Error(t, l.Close(), "closing reports the failed partition")

	l = openTest(t, dir, Options{NoSync: true})
	pos, err := l.Append(t.Context(), nil, []byte("two"))
	require.NoError(t, err)
	require.Equal(t, uint64(2), pos.Index)
}

// TestEnqueueKeepsCallOrder enqueues a window of records from one goroutine
// before waiting for any: their indexes follow the call order.
func TestEnqueueKeepsCallOrder(t *testing.T) {
	l := openTest(t, t.TempDir(), Options{Partitions: 2})
	key := []byte("5YJ3E1EA1KF000001")
	var queued []*Pending
	for i := range 64 {
		q, err := l.Enqueue(key, fmt.Appendf(nil, "record-%d", i))
		require.NoError(t, err)
		queued = append(queued, q)
	}
	var prev uint64
	for i, q := range queued {
		<-q.Done() // closed once the commit is over
		pos, err := q.Wait(t.Context())
		require.NoError(t, err)
		require.Equal(t, PartitionFor(key, 2), pos.Partition)
		require.Greater(t, pos.Index, prev, "record %d", i)
		prev = pos.Index
	}
	require.NoError(t, l.Close())
	_, err := l.Enqueue(key, []byte("late"))
	require.ErrorIs(t, err, ErrClosed)
}

func TestEnqueueOwned(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{})
	key := []byte("5YJ3E1EA1KF000001")
	var queued []*Pending
	for i := range 3 {
		// Whatever the reserved room holds is overwritten by the header.
		buf := append([]byte("room-that-the-log-owns")[:FrameReserve], fmt.Sprintf("owned-%d", i)...)
		q, err := l.EnqueueOwned(key, buf)
		require.NoError(t, err)
		queued = append(queued, q)
	}
	q, err := l.Enqueue(key, []byte("copied"))
	require.NoError(t, err)
	queued = append(queued, q)
	for _, q := range queued {
		_, err := q.Wait(t.Context())
		require.NoError(t, err)
	}

	_, err = l.EnqueueOwned(key, make([]byte, FrameReserve-1))
	require.Error(t, err, "a buffer without room for the header")
	_, err = l.EnqueueOwned(key, make([]byte, FrameReserve+MaxRecordSize+1))
	require.ErrorIs(t, err, ErrTooLarge)
	require.NoError(t, l.Close())
	_, err = l.EnqueueOwned(key, make([]byte, FrameReserve+1))
	require.ErrorIs(t, err, ErrClosed)

	var got []string
	for _, e := range readAll(t, dir, 0) {
		got = append(got, string(e.Data))
	}
	require.Equal(t, []string{"owned-0", "owned-1", "owned-2", "copied"}, got)
}
