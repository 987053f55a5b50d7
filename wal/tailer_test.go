package wal

import (
	"context"
	"fmt"
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
