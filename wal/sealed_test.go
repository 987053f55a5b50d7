package wal

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpenChecksSealedSegments damages the structure of a sealed segment
// in each way the length-prefix walk must catch: Open refuses the log with
// a *CorruptionError naming the segment and the first index concerned,
// and changes no file. Damage inside a frame keeps the structure intact:
// Open succeeds and readers report it (TestDamagedSealedSegmentReported).
func TestOpenChecksSealedSegments(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(b []byte, offs []int) []byte
		wantErr error
		wantAt  int // entry (0-based, in the segment) named by the error
	}{
		{name: "huge_length", wantErr: errBadLength, wantAt: 2, mutate: func(b []byte, offs []int) []byte {
			b[offs[2]] = 0xff
			return append(b[:offs[2]+1], append([]byte{0xff, 0xff, 0xff, 0x7f}, b[offs[2]+1:]...)...)
		}},
		{name: "length_below_frame_header", wantErr: errBadLength, wantAt: 1, mutate: func(b []byte, offs []int) []byte {
			b[offs[1]] = 3
			return b
		}},
		{name: "zeroed_entry", wantErr: errBadLength, wantAt: 1, mutate: func(b []byte, offs []int) []byte {
			clear(b[offs[1]:offs[2]])
			return b
		}},
		{name: "bytes_after_last_entry", wantErr: errSegmentTail, wantAt: -1, mutate: func(b []byte, _ []int) []byte {
			return append(b, 5, 1, 2, 3, 4, 5)
		}},
		{name: "cut_inside_last_entry", wantErr: errTornEntry, wantAt: -2, mutate: func(b []byte, _ []int) []byte {
			return b[:len(b)-4]
		}},
		{name: "last_entry_missing", wantErr: errGap, wantAt: -2, mutate: func(b []byte, offs []int) []byte {
			return b[:offs[len(offs)-2]]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			buildLog(t, dir, 60, 256)
			segs, err := listSegments(partitionDir(dir, 0))
			require.NoError(t, err)
			require.Greater(t, len(segs), 3)
			seg := segs[1]
			offs := entryOffsets(t, seg.path)
			entries := len(offs) - 1
			require.Greater(t, entries, 2)
			mutateFile(t, seg.path, func(b []byte) []byte { return tc.mutate(b, offs) })
			before := snapshotDir(t, partitionDir(dir, 0))

			_, err = Open(dir, Options{SegmentSize: 256, NoSync: true})
			var ce *CorruptionError
			require.ErrorAs(t, err, &ce)
			require.ErrorIs(t, err, tc.wantErr)
			require.Equal(t, seg.path, ce.Segment)
			at := tc.wantAt
			if at < 0 {
				at += entries + 1
			}
			require.Equal(t, seg.start+uint64(at), ce.Index)
			require.Equal(t, before, snapshotDir(t, partitionDir(dir, 0)), "a damaged log must not be modified")
			_, err = VerifyPartition(dir, 0)
			require.ErrorIs(t, err, ErrCorrupt, "walctl verify agrees")
		})
	}
}

// snapshotDir returns the name and content of every file in dir.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, de := range des {
		b, err := os.ReadFile(fmt.Sprintf("%s/%s", dir, de.Name()))
		require.NoError(t, err)
		out[de.Name()] = string(b)
	}
	return out
}

// TestOpenChecksNewestSealedSegments bounds the walk to the newest
// sealedCheckBytes of sealed segments: damage in an older one does not stop
// Open (a reader reports it when it gets there), damage in a newer one
// does.
func TestOpenChecksNewestSealedSegments(t *testing.T) {
	old := sealedCheckBytes
	t.Cleanup(func() { sealedCheckBytes = old })
	for _, damaged := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("segment_%d", damaged), func(t *testing.T) {
			dir := t.TempDir()
			buildLog(t, dir, 60, 256)
			segs, err := listSegments(partitionDir(dir, 0))
			require.NoError(t, err)
			require.Greater(t, len(segs), 5)
			// Room for the newest two sealed segments, not three.
			sealedCheckBytes = segs[len(segs)-2].size + segs[len(segs)-3].size + segs[len(segs)-4].size/2
			victim := segs[len(segs)-4+damaged]
			mutateFile(t, victim.path, func(b []byte) []byte { return append(b, 7) })
			l, err := Open(dir, Options{SegmentSize: 256, NoSync: true})
			if damaged == 0 {
				require.NoError(t, err, "the oldest sealed segment is past the bound")
				require.NoError(t, l.Close())
				_, err = VerifyPartition(dir, 0)
				require.ErrorIs(t, err, ErrCorrupt)
				return
			}
			var ce *CorruptionError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, victim.path, ce.Segment)
		})
	}
}
