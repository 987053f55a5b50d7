package wal

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	tidwal "github.com/tidwall/wal"
)

// TestSegmentsReadByTidwall writes a log across many small segments, some
// batches spanning several of them, and reads it back with tidwall/wal
// itself: the writer's segment files are tidwall/wal binary logs (FORMAT.md),
// entry for entry, and tidwall/wal finds the same last index.
func TestSegmentsReadByTidwall(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{SegmentSize: 1000, NoSync: true})
	require.NoError(t, err)
	var want []string
	var pend []*Pending
	for i := range 500 {
		rec := fmt.Sprintf("record-%d-%s", i, make([]byte, i%150))
		want = append(want, rec)
		q, err := l.Enqueue(nil, []byte(rec))
		require.NoError(t, err)
		if pend = append(pend, q); i%37 == 0 {
			for _, q := range pend {
				_, err := q.Wait(t.Context())
				require.NoError(t, err)
			}
			pend = pend[:0]
		}
	}
	for _, q := range pend {
		_, err := q.Wait(t.Context())
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	segs, err := listSegments(partitionDir(dir, 0))
	require.NoError(t, err)
	require.Greater(t, len(segs), 40, "the records span many segments")

	wl, err := tidwal.Open(partitionDir(dir, 0), &tidwal.Options{LogFormat: tidwal.Binary, NoSync: true})
	require.NoError(t, err)
	defer func() { require.NoError(t, wl.Close()) }()
	first, err := wl.FirstIndex()
	require.NoError(t, err)
	last, err := wl.LastIndex()
	require.NoError(t, err)
	require.Equal(t, uint64(1), first)
	require.Equal(t, uint64(len(want)), last)
	for i, rec := range want {
		f, err := wl.Read(uint64(i + 1))
		require.NoError(t, err)
		e, err := decodeFrame(f, uint64(i+1))
		require.NoError(t, err)
		require.Equal(t, rec, string(e.Data))
	}

	// And the writer reopens what it wrote, going on at the next index.
	l = openTest(t, dir, Options{SegmentSize: 1000, NoSync: true})
	pos, err := l.Append(t.Context(), nil, []byte("next"))
	require.NoError(t, err)
	require.Equal(t, uint64(len(want)+1), pos.Index)
}
