package wal

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCursor(t *testing.T) {
	tests := []struct {
		name    string
		commits []uint64
		wantErr error
		want    uint64
	}{
		{name: "fresh_is_zero", want: 0},
		{name: "forward", commits: []uint64{1, 5, 9}, want: 9},
		{name: "same_again", commits: []uint64{4, 4}, want: 4},
		{name: "backwards_refused", commits: []uint64{7, 3}, wantErr: ErrCursorBackwards, want: 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := OpenCursor(dir, "kafka", 2)
			require.NoError(t, err)
			var last error
			for _, v := range tc.commits {
				last = c.Commit(v)
			}
			if tc.wantErr != nil {
				require.ErrorIs(t, last, tc.wantErr)
			} else {
				require.NoError(t, last)
			}
			reopened, err := OpenCursor(dir, "kafka", 2)
			require.NoError(t, err)
			got, err := reopened.Load()
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestCursorDamageDetected(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenCursor(dir, "kinesis", 0)
	require.NoError(t, err)
	require.NoError(t, c.Commit(42))
	path := cursorPath(dir, "kinesis", 0)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[5] ^= 0x40
	require.NoError(t, os.WriteFile(path, b, 0o644))
	_, err = c.Load()
	require.ErrorIs(t, err, ErrCorrupt)
	var ce *CorruptionError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, path, ce.Segment)
}

func TestCursorInvalidNames(t *testing.T) {
	for _, name := range []string{"", ".", "..", "a/b", "x y"} {
		t.Run("name_"+name, func(t *testing.T) {
			_, err := OpenCursor(t.TempDir(), name, 0)
			require.Error(t, err)
		})
	}
}
