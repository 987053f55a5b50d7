package deadletter_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/internal/deadletter"
)

func letters(partition int, from, n int) []deadletter.Letter {
	out := make([]deadletter.Letter, n)
	for i := range out {
		out[i] = deadletter.Letter{Partition: partition, Index: uint64(from + i), Data: []byte{1, 2, byte(i)},
			Reason: "permanent: rejected", At: time.Unix(1700000000, 0).UTC()}
	}
	return out
}

func readAll(t *testing.T, dir string, partition int, after uint64) []deadletter.Numbered {
	t.Helper()
	var got []deadletter.Numbered
	require.NoError(t, deadletter.Read(dir, partition, after, func(n deadletter.Numbered) error {
		got = append(got, n)
		return nil
	}))
	return got
}

func TestPutAndRead(t *testing.T) {
	dir := t.TempDir()
	w := deadletter.NewWriter(dir, 2)
	require.NoError(t, w.Put(t.Context(), letters(2, 10, 3)))
	require.NoError(t, w.Put(t.Context(), letters(2, 20, 2)))
	require.NoError(t, w.Close())

	got := readAll(t, dir, 2, 0)
	require.Len(t, got, 5)
	require.Equal(t, uint64(1), got[0].Seq)
	require.Equal(t, letters(2, 10, 3)[0], got[0].Letter)
	require.Equal(t, uint64(21), got[4].Index)

	require.Len(t, readAll(t, dir, 2, 3), 2, "after skips numbered letters")
	require.Empty(t, readAll(t, dir, 7, 0), "a partition without a file has none")
	parts, err := deadletter.Partitions(dir)
	require.NoError(t, err)
	require.Equal(t, []int{2}, parts)
}

func TestTornTailIsIgnoredThenRepaired(t *testing.T) {
	dir := t.TempDir()
	w := deadletter.NewWriter(dir, 0)
	require.NoError(t, w.Put(t.Context(), letters(0, 1, 2)))
	require.NoError(t, w.Close())
	path := deadletter.Path(dir, 0)
	full, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, w.Put(t.Context(), letters(0, 3, 1)))
	require.NoError(t, w.Close())
	withThird, err := os.ReadFile(path)
	require.NoError(t, err)

	for cut := len(full) + 1; cut < len(withThird); cut++ {
		require.NoError(t, os.WriteFile(path, withThird[:cut], 0o644))
		require.Len(t, readAll(t, dir, 0, 0), 2, "cut at %d", cut)

		w := deadletter.NewWriter(dir, 0)
		require.NoError(t, w.Put(t.Context(), letters(0, 9, 1)))
		require.NoError(t, w.Close())
		got := readAll(t, dir, 0, 0)
		require.Len(t, got, 3, "cut at %d", cut)
		require.Equal(t, uint64(9), got[2].Index)
	}
}

func TestCorruptFrame(t *testing.T) {
	dir := t.TempDir()
	w := deadletter.NewWriter(dir, 1)
	require.NoError(t, w.Put(t.Context(), letters(1, 1, 3)))
	require.NoError(t, w.Close())
	path := deadletter.Path(dir, 1)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[len(b)/2] ^= 0xff
	require.NoError(t, os.WriteFile(path, b, 0o644))

	err = deadletter.Read(dir, 1, 0, func(deadletter.Numbered) error { return nil })
	require.ErrorIs(t, err, deadletter.ErrCorrupt)

	require.NoError(t, w.Put(t.Context(), letters(1, 7, 1)), "the writer cuts the damage off")
	require.NoError(t, w.Close())
	_, err = os.Stat(path + ".broken")
	require.NoError(t, err, "the damaged file is kept")
	got := readAll(t, dir, 1, 0)
	require.Equal(t, uint64(7), got[len(got)-1].Index)
}

func TestReplayState(t *testing.T) {
	tests := []struct {
		name string
		set  []uint64
		want uint64
	}{
		{name: "never_replayed", want: 0},
		{name: "one_save", set: []uint64{4}, want: 4},
		{name: "overwritten", set: []uint64{4, 9}, want: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range tt.set {
				require.NoError(t, deadletter.SetReplayed(dir, 3, n))
			}
			got, err := deadletter.Replayed(dir, 3)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p003.replayed"), []byte{1}, 0o644))
	_, err := deadletter.Replayed(dir, 3)
	require.ErrorIs(t, err, deadletter.ErrCorrupt)
}
