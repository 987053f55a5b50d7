package wal

import (
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFailedSyncFailsLaterBatches makes the tail segment's fdatasync fail
// while many batches are written and synced at once: every Append fails,
// none is answered as durable after the failed batch, the watermark stays
// where it was, and the partition refuses later appends. After reopening,
// the records acknowledged before the failure are there.
func TestFailedSyncFailsLaterBatches(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Partitions: 1, SyncDepth: 2})
	require.NoError(t, err)
	first, err := l.Append(t.Context(), nil, []byte("acknowledged"))
	require.NoError(t, err)

	p := l.parts[0]
	// Writes still succeed; every fdatasync of the tail fails from now on.
	// (Set before the Appends below hand their records to the committer.)
	p.mu.Lock()
	p.tail.syncFault = syscall.EIO
	p.mu.Unlock()
	errs := make([]error, 64)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { _, errs[i] = l.Append(t.Context(), nil, []byte("never acknowledged")) })
	}
	wg.Wait()
	for i, err := range errs {
		require.ErrorContains(t, err, "fdatasync", "append %d", i)
	}
	require.Equal(t, first.Index, p.lastIndex(), "the watermark does not pass the failed batch")
	_, err = l.Append(t.Context(), nil, []byte("after"))
	require.ErrorContains(t, err, "fdatasync", "the partition stays failed")
	require.Error(t, l.Close())

	entries := readAll(t, dir, 0)
	require.NotEmpty(t, entries)
	require.Equal(t, []byte("acknowledged"), entries[0].Data)
}
