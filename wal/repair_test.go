package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// buildLog writes n records ("rec-<i>") to a one-partition log and closes it.
func buildLog(t *testing.T, dir string, n int, segSize int64) {
	t.Helper()
	l, err := Open(dir, Options{SegmentSize: segSize, NoSync: true})
	require.NoError(t, err)
	for i := 1; i <= n; i++ {
		_, err := l.Append(t.Context(), nil, fmt.Appendf(nil, "rec-%d", i))
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
}

func lastSegment(t *testing.T, dir string) segmentFile {
	t.Helper()
	segs, err := listSegments(partitionDir(dir, 0))
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	return segs[len(segs)-1]
}

// entryOffsets returns the file offset at which each entry of a segment
// starts, plus the end offset.
func entryOffsets(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	offs := []int{0}
	for off := 0; off < len(data); {
		_, size, st := nextEntry(data[off:])
		require.Equal(t, entryOK, st)
		off += size
		offs = append(offs, off)
	}
	return offs
}

func mutateFile(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, fn(b), 0o644))
}

func brokenCopies(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(partitionDir(dir, 0), "*.broken"))
	require.NoError(t, err)
	return len(m)
}

// requireRecords checks that the log holds exactly rec-1..rec-n.
func requireRecords(t *testing.T, dir string, n int) {
	t.Helper()
	got := readAll(t, dir, 0)
	require.Len(t, got, n)
	for i, e := range got {
		require.Equal(t, uint64(i+1), e.Index)
		require.Equal(t, fmt.Sprintf("rec-%d", i+1), string(e.Data))
	}
}

func TestCorruptionTable(t *testing.T) {
	const n = 20
	tests := []struct {
		name      string
		mutate    func(b []byte, offs []int) []byte
		wantKept  int    // records after reopen when repaired
		wantIndex uint64 // index named by the CorruptionError, 0 when repaired
		zeros     bool   // only zeros follow the kept entries: cut without a .broken copy
	}{
		{name: "torn_last_entry", wantKept: n - 1, mutate: func(b []byte, _ []int) []byte { return b[:len(b)-3] }},
		{name: "torn_length_prefix", wantKept: n, mutate: func(b []byte, _ []int) []byte { return append(b, 0x80) }},
		{name: "zero_filled_tail", wantKept: n, zeros: true, mutate: func(b []byte, _ []int) []byte { return append(b, make([]byte, 4096)...) }},
		{name: "zeroed_last_entry", wantKept: n - 1, zeros: true, mutate: func(b []byte, offs []int) []byte {
			clear(b[offs[n-1]:])
			return b
		}},
		{name: "garbage_tail", wantKept: n, mutate: func(b []byte, _ []int) []byte { return append(b, 5, 1, 2, 3, 4, 5) }},
		{name: "bad_checksum_last_entry", wantKept: n - 1, mutate: func(b []byte, _ []int) []byte {
			b[len(b)-1] ^= 0xff
			return b
		}},
		{name: "bad_checksum_middle", wantIndex: n / 2, mutate: func(b []byte, offs []int) []byte {
			b[offs[n/2]-1] ^= 0x01
			return b
		}},
		{name: "bad_length_middle", wantIndex: n / 2, mutate: func(b []byte, offs []int) []byte {
			b[offs[n/2-1]] += 7
			return b
		}},
		{name: "bad_length_huge_middle", wantIndex: n / 2, mutate: func(b []byte, offs []int) []byte {
			b[offs[n/2-1]] = 0xff
			return b
		}},
		{name: "zeroed_middle_entry", wantIndex: n / 2, mutate: func(b []byte, offs []int) []byte {
			clear(b[offs[n/2-1]:offs[n/2]])
			return b
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			buildLog(t, dir, n, 0)
			seg := lastSegment(t, dir)
			offs := entryOffsets(t, seg.path)
			mutateFile(t, seg.path, func(b []byte) []byte { return tc.mutate(b, offs) })
			before, err := os.ReadFile(seg.path)
			require.NoError(t, err)

			l, err := Open(dir, Options{NoSync: true})
			if tc.wantIndex != 0 {
				var ce *CorruptionError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tc.wantIndex, ce.Index)
				require.Equal(t, seg.path, ce.Segment)
				after, rerr := os.ReadFile(seg.path)
				require.NoError(t, rerr)
				require.Equal(t, before, after, "a damaged log must not be modified")
				_, err = VerifyPartition(dir, 0)
				require.ErrorIs(t, err, ErrCorrupt)
				return
			}
			require.NoError(t, err)
			require.Equal(t, map[bool]int{false: 1, true: 0}[tc.zeros], brokenCopies(t, dir))
			pos, err := l.Append(t.Context(), nil, fmt.Appendf(nil, "rec-%d", tc.wantKept+1))
			require.NoError(t, err)
			require.Equal(t, uint64(tc.wantKept+1), pos.Index)
			require.NoError(t, l.Close())
			requireRecords(t, dir, tc.wantKept+1)
		})
	}
}

func TestDamagedSealedSegmentReported(t *testing.T) {
	dir := t.TempDir()
	buildLog(t, dir, 60, 256)
	segs, err := listSegments(partitionDir(dir, 0))
	require.NoError(t, err)
	require.Greater(t, len(segs), 2)
	offs := entryOffsets(t, segs[1].path)
	mutateFile(t, segs[1].path, func(b []byte) []byte {
		b[offs[2]-1] ^= 0x10
		return b
	})
	want := segs[1].start + 1
	r, err := OpenReader(dir, 0, 0)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	for i := uint64(1); i < want; i++ {
		_, err := r.Next()
		require.NoError(t, err)
	}
	_, err = r.Next()
	var ce *CorruptionError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, want, ce.Index)
	require.Equal(t, segs[1].path, ce.Segment)
	_, err = r.Next()
	require.ErrorAs(t, err, &ce, "a reader stays before damage")
	_, err = VerifyPartition(dir, 0)
	require.ErrorAs(t, err, &ce)
	require.Equal(t, want, ce.Index)
}

// TestLostPageInLastBatch zeroes a whole page near the end of the last
// segment while later entries stay valid, as a machine crash can leave the
// last, unsynced batch: the log is cut before the page, not refused.
func TestLostPageInLastBatch(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{NoSync: true})
	require.NoError(t, err)
	for i := 1; i <= 100; i++ {
		_, err := l.Append(t.Context(), nil, fmt.Appendf(nil, "rec-%d-%0200d", i, i))
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	seg := lastSegment(t, dir)
	offs := entryOffsets(t, seg.path)
	mutateFile(t, seg.path, func(b []byte) []byte {
		clear(b[2*pageSize : 3*pageSize])
		return b
	})
	kept := 0
	for kept+1 < len(offs) && offs[kept+1] <= 2*pageSize {
		kept++
	}
	l, err = Open(dir, Options{NoSync: true})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.Equal(t, 1, brokenCopies(t, dir))
	got := readAll(t, dir, 0)
	require.Len(t, got, kept)
}

// TestTruncateEveryOffset cuts the last segment at every byte offset of its
// last two entries: each cut must reopen to exactly the complete prefix and
// accept new appends.
func TestTruncateEveryOffset(t *testing.T) {
	const n = 30
	src := t.TempDir()
	buildLog(t, src, n, 512)
	seg := lastSegment(t, src)
	offs := entryOffsets(t, seg.path)
	require.GreaterOrEqual(t, len(offs), 3)
	full, err := os.ReadFile(seg.path)
	require.NoError(t, err)
	entries := len(offs) - 1
	for cut := offs[entries-2]; cut < len(full); cut++ {
		complete := entries - 2
		if cut >= offs[entries-1] {
			complete++
		}
		kept := int(seg.start) - 1 + complete
		t.Run(fmt.Sprintf("cut_%d", cut), func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.CopyFS(dir, os.DirFS(src)))
			require.NoError(t, os.WriteFile(lastSegmentPath(dir, seg), full[:cut], 0o644))
			l, err := Open(dir, Options{SegmentSize: 512, NoSync: true})
			require.NoError(t, err)
			pos, err := l.Append(t.Context(), nil, fmt.Appendf(nil, "rec-%d", kept+1))
			require.NoError(t, err)
			require.Equal(t, uint64(kept+1), pos.Index)
			require.NoError(t, l.Close())
			requireRecords(t, dir, kept+1)
		})
	}
}

func lastSegmentPath(dir string, seg segmentFile) string {
	return filepath.Join(partitionDir(dir, 0), filepath.Base(seg.path))
}
