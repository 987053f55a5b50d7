package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTailerFollowsAppendsAndRotation(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{SegmentSize: 1024, NoSync: true})
	tl, err := OpenTailer(dir, 0, 0, TailerOptions{})
	require.NoError(t, err)
	defer func() { require.NoError(t, tl.Close()) }()
	const n = 500
	go func() {
		for i := range n {
			_, err := l.Append(context.Background(), nil, fmt.Appendf(nil, "rec-%d", i))
			if err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for i := range n {
		e, err := tl.Next(ctx)
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), e.Index)
		require.Equal(t, fmt.Sprintf("rec-%d", i), string(e.Data))
	}
	short, cancelShort := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancelShort()
	_, err = tl.Next(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestTailerOpenErrors(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{Partitions: 2, SegmentSize: 256, NoSync: true, Consumers: []string{"s"}})
	for i := range 100 {
		_, err := l.Append(t.Context(), []byte("same-key"), fmt.Appendf(nil, "%040d", i))
		require.NoError(t, err)
	}
	p := PartitionFor([]byte("same-key"), 2)
	c, err := OpenCursor(dir, "s", p)
	require.NoError(t, err)
	require.NoError(t, c.Commit(90))
	require.NoError(t, l.Retain())
	st, err := StatPartition(dir, p)
	require.NoError(t, err)
	require.Greater(t, st.FirstIndex, uint64(1))

	tests := []struct {
		name      string
		partition int
		after     uint64
		want      error
	}{
		{name: "below_first_retained", partition: p, after: 0, want: ErrTruncated},
		{name: "beyond_last", partition: p, after: 101, want: ErrAheadOfLog},
		{name: "no_partition", partition: 2, want: ErrNoPartition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenTailer(dir, tc.partition, tc.after, TailerOptions{})
			require.ErrorIs(t, err, tc.want)
		})
	}
	tl, err := OpenTailer(dir, p, 90, TailerOptions{})
	require.NoError(t, err)
	defer func() { require.NoError(t, tl.Close()) }()
	e, err := tl.Next(t.Context())
	require.NoError(t, err)
	require.Equal(t, uint64(91), e.Index)
}

func appendToFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(b)
	require.NoError(t, errors.Join(err, f.Close()))
}

// publish overwrites the watermark in place, as the writer does (never
// truncating it, which a concurrent reader would see as an empty file).
func publish(t *testing.T, dir string, w watermark) {
	t.Helper()
	path := filepath.Join(partitionDir(dir, 0), syncedFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	require.NoError(t, err)
	_, err = f.WriteAt(encodeWatermark(w), 0)
	require.NoError(t, errors.Join(err, f.Close()))
}

// TestReaderDeliversOnlyDurableEntries writes frames straight into the tail
// segment, as a writer does before its fsync, and checks that readers wait
// for the watermark, and that a new writer epoch discards bytes read ahead.
func TestReaderDeliversOnlyDurableEntries(t *testing.T) {
	dir := t.TempDir()
	buildLog(t, dir, 4, 0)
	seg := lastSegment(t, dir)
	old, err := decodeWatermarkFile(dir)
	require.NoError(t, err)
	require.Equal(t, uint64(4), old.index)

	appendToFile(t, seg.path, segmentBytes(5, "rec-5"))
	appendToFile(t, seg.path, segmentBytes(6, "stale-6"))
	r, err := OpenReader(dir, 0, 0)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	require.Equal(t, []string{"rec-1", "rec-2", "rec-3", "rec-4"}, drainReader(t, r))

	publish(t, dir, watermark{index: 5, epoch: old.epoch})
	require.Equal(t, []string{"rec-5"}, drainReader(t, r), "the unsynced entry 6 stays hidden")

	// The writer restarts: entry 6 was lost and rewritten, with a new epoch.
	size := seg.size + int64(len(segmentBytes(5, "rec-5")))
	require.NoError(t, os.Truncate(seg.path, size))
	appendToFile(t, seg.path, segmentBytes(6, "rec-6"))
	publish(t, dir, watermark{index: 6, epoch: old.epoch + 1})
	require.Equal(t, []string{"rec-6"}, drainReader(t, r))
}

func decodeWatermarkFile(dir string) (watermark, error) {
	r := newSyncedReader(partitionDir(dir, 0))
	defer func() { _ = r.close() }()
	return r.load()
}

func drainReader(t *testing.T, r *Reader) []string {
	t.Helper()
	var out []string
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, string(e.Data))
	}
}

// TestWatermarkReadWaitsOutAHalfWrittenUpdate damages the watermark file as
// a writer descheduled in the middle of its update leaves it: a reader keeps
// reading until the update completes, and reports damage that lasts longer
// than watermarkPatience as a checksum error.
func TestWatermarkReadWaitsOutAHalfWrittenUpdate(t *testing.T) {
	dir := t.TempDir()
	buildLog(t, dir, 3, 0)
	good, err := decodeWatermarkFile(dir)
	require.NoError(t, err)
	torn := encodeWatermark(watermark{index: good.index + 1, epoch: good.epoch})
	copy(torn[8:], encodeWatermark(good)[8:]) // new index, old checksum
	path := filepath.Join(partitionDir(dir, 0), syncedFile)
	require.NoError(t, os.WriteFile(path, torn, 0o644))

	done := make(chan error, 1)
	var got watermark
	go func() {
		var err error
		got, err = decodeWatermarkFile(dir)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // the writer resumes
	publish(t, dir, watermark{index: good.index + 1, epoch: good.epoch})
	require.NoError(t, <-done)
	require.Equal(t, good.index+1, got.index)

	defer func(p time.Duration) { watermarkPatience = p }(watermarkPatience)
	watermarkPatience = 20 * time.Millisecond
	require.NoError(t, os.WriteFile(path, torn, 0o644))
	_, err = decodeWatermarkFile(dir)
	require.ErrorIs(t, err, errChecksum)
}
