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
	for _, depth := range []int{1, 2} {
		t.Run(fmt.Sprintf("depth=%d", depth), func(t *testing.T) { testSyncGroupRounds(t, depth) })
	}
}

func testSyncGroupRounds(t *testing.T, depth int) {
	g := newSyncGroup(depth)
	parts := make([]*partition, 4)
	for i := range parts {
		dir := t.TempDir()
		wl, err := tidwal.Open(dir, &tidwal.Options{NoSync: true, LogFormat: tidwal.Binary})
		require.NoError(t, err)
		require.NoError(t, wl.Write(1, []byte("x")))
		segs, err := listSegments(dir)
		require.NoError(t, err)
		tail, err := openTailFile(segs[0].path)
		require.NoError(t, err)
		parts[i] = &partition{id: i, tail: tail}
		t.Cleanup(func() { _ = wl.Close() })
	}
	require.NoError(t, parts[3].tail.close()) // its fsyncs fail: the file is closed
	for _, p := range parts[:3] {
		t.Cleanup(func() { _ = p.tail.close() })
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
				require.ErrorContains(t, err, "fdatasync "+parts[3].tail.path)
			} else {
				require.NoError(t, err, fmt.Sprintf("partition %d", i))
			}
		}
	}
	require.Zero(t, g.running, "no round left running")
	require.Nil(t, g.next, "no round left gathering")
}
