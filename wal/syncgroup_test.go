package wal

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	tidwal "github.com/tidwall/wal"
)

// TestSyncGroupRoundsReportEachPartition syncs many partitions from many
// goroutines at once: every call returns, and a failing partition's error
// reaches only that partition's callers.
func TestSyncGroupRoundsReportEachPartition(t *testing.T) {
	g := newSyncGroup()
	parts := make([]*partition, 4)
	for i := range parts {
		wl, err := tidwal.Open(t.TempDir(), &tidwal.Options{NoSync: true, LogFormat: tidwal.Binary})
		require.NoError(t, err)
		require.NoError(t, wl.Write(1, []byte("x")))
		parts[i] = &partition{id: i, wl: wl}
	}
	require.NoError(t, parts[3].wl.Close()) // its fsyncs fail with ErrClosed
	for _, p := range parts[:3] {
		t.Cleanup(func() { _ = p.wl.Close() })
	}

	var wg sync.WaitGroup
	errs := make([][]error, len(parts))
	var mu sync.Mutex
	for range 50 {
		for i, p := range parts {
			wg.Go(func() {
				err := g.sync(p)
				mu.Lock()
				errs[i] = append(errs[i], err)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	for i, es := range errs {
		require.Len(t, es, 50, "partition %d", i)
		for _, err := range es {
			if i == 3 {
				require.ErrorIs(t, err, tidwal.ErrClosed)
			} else {
				require.NoError(t, err, fmt.Sprintf("partition %d", i))
			}
		}
	}
	require.False(t, g.running, "no round left running")
	require.Nil(t, g.next, "no round left gathering")
}
