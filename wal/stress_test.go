package wal

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConcurrentAppendTailRetain runs appenders, one tailer per partition
// that commits its cursor, and frequent retention together (meaningful
// under -race): every tailer must see its partition's entries in order.
func TestConcurrentAppendTailRetain(t *testing.T) {
	const parts, perWorker, workers = 3, 300, 6
	dir := t.TempDir()
	l := openTest(t, dir, Options{Partitions: parts, SegmentSize: 2048, NoSync: true,
		Consumers: []string{"s"}, RetentionInterval: time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var appended sync.WaitGroup
	for w := range workers {
		appended.Go(func() {
			for i := range perWorker {
				_, err := l.Append(ctx, []byte{byte(w), byte(i)}, make([]byte, 40))
				require.NoError(t, err)
			}
		})
	}
	seen := make([]uint64, parts)
	var tailed sync.WaitGroup
	stop := make(chan struct{})
	for p := range parts {
		tailed.Go(func() { seen[p] = tailAndCommit(t, ctx, dir, p, stop) })
	}
	appended.Wait()
	close(stop)
	tailed.Wait()
	var total uint64
	for p := range parts {
		st, err := StatPartition(dir, p)
		require.NoError(t, err)
		require.Equal(t, st.LastIndex, seen[p])
		total += seen[p]
	}
	require.Equal(t, uint64(workers*perWorker), total)
}

// tailAndCommit follows partition p, checking the order of indexes, until
// stop is closed and it has caught up; it returns the last index seen.
func tailAndCommit(t *testing.T, ctx context.Context, dir string, p int, stop <-chan struct{}) uint64 {
	cur, err := OpenCursor(dir, "s", p)
	require.NoError(t, err)
	tl, err := OpenTailer(dir, p, 0, TailerOptions{PollInterval: time.Millisecond})
	require.NoError(t, err)
	defer func() { require.NoError(t, tl.Close()) }()
	var last uint64
	for {
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		e, err := tl.Next(short)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			if caughtUp(t, dir, p, last, stop) {
				require.NoError(t, cur.Commit(last))
				return last
			}
			continue
		}
		require.Equal(t, last+1, e.Index)
		if last = e.Index; last%10 == 0 {
			require.NoError(t, cur.Commit(last))
		}
	}
}

func caughtUp(t *testing.T, dir string, p int, last uint64, stop <-chan struct{}) bool {
	select {
	case <-stop:
		st, err := StatPartition(dir, p)
		require.NoError(t, err)
		return st.LastIndex == last
	default:
		return false
	}
}
