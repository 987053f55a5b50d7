package wal

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// damagedLog builds a 60-record log of small segments, flips a bit inside
// the frame of the third entry of the second segment and returns that
// entry's index.
func damagedLog(t *testing.T, dir string) uint64 {
	t.Helper()
	buildLog(t, dir, 60, 256)
	segs, err := listSegments(partitionDir(dir, 0))
	require.NoError(t, err)
	require.Greater(t, len(segs), 3)
	offs := entryOffsets(t, segs[1].path)
	mutateFile(t, segs[1].path, func(b []byte) []byte {
		b[offs[3]-1] ^= 0x10 // last byte of the record
		return b
	})
	return segs[1].start + 2
}

// TestSkipCorruptEntry stops a consumer at a damaged entry, skips it, and
// lets the consumer go on from the entry after it with every later record
// intact; the writer still opens and appends.
func TestSkipCorruptEntry(t *testing.T) {
	dir := t.TempDir()
	bad := damagedLog(t, dir)
	commit(t, dir, "sink", bad-1)

	tl, err := OpenTailer(dir, 0, bad-1, TailerOptions{})
	require.NoError(t, err)
	_, err = tl.Next(t.Context())
	var ce *CorruptionError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, bad, ce.Index)
	require.NoError(t, tl.Close())

	skipped, err := SkipCorruptEntry(dir, "sink", 0, bad)
	require.NoError(t, err)
	require.Equal(t, bad, skipped.Index)
	require.ErrorIs(t, skipped, errChecksum)
	pos, err := LoadCursor(dir, "sink", 0)
	require.NoError(t, err)
	require.Equal(t, bad, pos)

	l := openTest(t, dir, Options{SegmentSize: 256, NoSync: true, Consumers: []string{"sink"}})
	_, err = l.Append(t.Context(), nil, []byte("rec-61"))
	require.NoError(t, err)
	tl, err = OpenTailer(dir, 0, pos, TailerOptions{})
	require.NoError(t, err)
	defer func() { require.NoError(t, tl.Close()) }()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for i := bad + 1; i <= 61; i++ {
		e, err := tl.Next(ctx)
		require.NoError(t, err)
		require.Equal(t, i, e.Index)
		require.Equal(t, fmt.Sprintf("rec-%d", i), string(e.Data))
	}
	commit(t, dir, "sink", 61)
	require.NoError(t, l.Retain())
	st, err := StatPartition(dir, 0)
	require.NoError(t, err)
	require.Greater(t, st.FirstIndex, bad, "retention deleted the damaged segment")
}

// TestSkipCorruptEntryRefuses leaves the cursor alone unless the consumer
// is right before an entry damaged inside its frame with the next entry
// intact.
func TestSkipCorruptEntryRefuses(t *testing.T) {
	t.Run("cursor_elsewhere", func(t *testing.T) {
		dir := t.TempDir()
		bad := damagedLog(t, dir)
		commit(t, dir, "sink", bad-2)
		_, err := SkipCorruptEntry(dir, "sink", 0, bad)
		require.ErrorIs(t, err, ErrNotSkippable)
		requireCursor(t, dir, bad-2)
	})
	t.Run("intact_entry", func(t *testing.T) {
		dir := t.TempDir()
		bad := damagedLog(t, dir)
		commit(t, dir, "sink", bad+3)
		_, err := SkipCorruptEntry(dir, "sink", 0, bad+4)
		require.ErrorIs(t, err, ErrNotSkippable)
		requireCursor(t, dir, bad+3)
	})
	t.Run("damaged_length_prefix", func(t *testing.T) {
		dir := t.TempDir()
		buildLog(t, dir, 60, 256)
		segs, err := listSegments(partitionDir(dir, 0))
		require.NoError(t, err)
		offs := entryOffsets(t, segs[1].path)
		mutateFile(t, segs[1].path, func(b []byte) []byte {
			b[offs[1]]-- // the entry seems one byte shorter: the next one is misplaced
			return b
		})
		bad := segs[1].start + 1
		commit(t, dir, "sink", bad-1)
		_, err = SkipCorruptEntry(dir, "sink", 0, bad)
		require.ErrorIs(t, err, ErrNotSkippable)
		requireCursor(t, dir, bad-1)
	})
}

func requireCursor(t *testing.T, dir string, want uint64) {
	t.Helper()
	pos, err := LoadCursor(dir, "sink", 0)
	require.NoError(t, err)
	require.Equal(t, want, pos)
}
