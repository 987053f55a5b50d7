package status_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/internal/status"
)

func TestWriteReadAll(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, p := range []int{10, 2, 0} {
		require.NoError(t, status.Write(dir, status.Partition{Sink: "kafka", Partition: p, Cursor: uint64(p * 7), UpdatedAt: at}))
	}
	require.NoError(t, status.Write(dir, status.Partition{Sink: "kafka", Partition: 2, Cursor: 99, LastError: "boom", LastErrorAt: at}))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))

	all, err := status.ReadAll(dir)
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.Equal(t, []int{0, 2, 10}, []int{all[0].Partition, all[1].Partition, all[2].Partition})
	require.Equal(t, uint64(99), all[1].Cursor, "the last write wins")
	require.Equal(t, "boom", all[1].LastError)

	_, err = status.Read(dir, 5)
	require.ErrorIs(t, err, fs.ErrNotExist)
	none, err := status.ReadAll(filepath.Join(dir, "missing"))
	require.NoError(t, err)
	require.Empty(t, none)
}
