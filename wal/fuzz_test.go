package wal

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// segmentBytes returns a valid segment holding records, starting at start.
func segmentBytes(start uint64, records ...string) []byte {
	var b []byte
	for i, r := range records {
		f := newFrame([]byte(r))
		sealFrame(f, start+uint64(i), 1_700_000_000_000_000_000+int64(i))
		b = appendEntryBytes(b, f)
	}
	return b
}

func appendEntryBytes(b, payload []byte) []byte {
	var lenbuf [10]byte
	n := putUvarint(lenbuf[:], uint64(len(payload)))
	return append(append(b, lenbuf[:n]...), payload...)
}

// FuzzSegmentReader feeds arbitrary bytes as the only segment of a log to a
// Reader: it must never panic, must return entries in order followed by
// io.EOF or a *CorruptionError, and must agree with the repair scan.
func FuzzSegmentReader(f *testing.F) {
	f.Add(segmentBytes(1, "a", "bb", "ccc"))
	f.Add(append(segmentBytes(1, "vehicle-data"), make([]byte, 16)...))
	f.Add(segmentBytes(1, "x")[:5])
	f.Add([]byte{0x80})
	dir := f.TempDir()
	require.NoError(f, writeMeta(dir, Meta{FormatVersion: metaVersion, Partitions: 1}))
	pdir := partitionDir(dir, 0)
	require.NoError(f, os.MkdirAll(pdir, 0o755))
	require.NoError(f, os.WriteFile(filepath.Join(pdir, syncedFile),
		encodeWatermark(watermark{index: math.MaxUint64, epoch: 1}), 0o644))
	seg := filepath.Join(pdir, segmentName(1))
	f.Fuzz(func(t *testing.T, data []byte) {
		require.NoError(t, os.WriteFile(seg, data, 0o644))
		r, err := OpenReader(dir, 0, 0)
		require.NoError(t, err)
		defer func() { require.NoError(t, r.Close()) }()
		var n uint64
		for {
			e, err := r.Next()
			if err != nil {
				require.True(t, errors.Is(err, io.EOF) || errors.Is(err, ErrCorrupt), "unexpected error %v", err)
				break
			}
			n++
			require.Equal(t, n, e.Index)
		}
		require.Equal(t, scanSegment(data, 1).entries, n)
	})
}

// FuzzFrameDecode checks that decoding arbitrary bytes never panics and that
// whatever decodes re-encodes to the same bytes.
func FuzzFrameDecode(f *testing.F) {
	valid := newFrame([]byte("record"))
	sealFrame(valid, 7, 123)
	f.Add(valid, uint64(7))
	f.Add(valid[:frameHeaderSize], uint64(7))
	f.Add([]byte{}, uint64(0))
	f.Fuzz(func(t *testing.T, frame []byte, index uint64) {
		e, err := decodeFrame(frame, index)
		if err != nil {
			_, ok := frameIndex(frame)
			require.False(t, ok && errors.Is(err, errChecksum))
			return
		}
		again := newFrame(e.Data)
		sealFrame(again, index, e.AppendedAt.UnixNano())
		require.True(t, bytes.Equal(frame, again))
		got, ok := frameIndex(frame)
		require.True(t, ok)
		require.Equal(t, index, got)
	})
}

// FuzzTailRepair appends arbitrary bytes to a valid last segment: Open must
// keep every valid entry and accept appends, or refuse with a
// *CorruptionError, and never panic.
func FuzzTailRepair(f *testing.F) {
	f.Add([]byte{0x80})
	f.Add(make([]byte, 64))
	f.Add(segmentBytes(4, "next")[:6])
	f.Add(append([]byte{9, 1, 2}, segmentBytes(5, "later")...))
	valid := segmentBytes(1, "rec-1", "rec-2", "rec-3")
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		buildLog(t, dir, 0, 0)
		seg := lastSegment(t, dir)
		require.NoError(t, os.WriteFile(seg.path, append(append([]byte(nil), valid...), tail...), 0o644))
		publish(t, dir, watermark{index: 3, epoch: 1})
		l, err := Open(dir, Options{NoSync: true})
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		pos, err := l.Append(t.Context(), nil, []byte("new"))
		require.NoError(t, errors.Join(err, l.Close()))
		require.GreaterOrEqual(t, pos.Index, uint64(4))
		got := readAll(t, dir, 0)
		require.Len(t, got, int(pos.Index))
		require.Equal(t, "rec-3", string(got[2].Data))
	})
}
