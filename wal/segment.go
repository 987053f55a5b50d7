package wal

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// segmentNameLen is the length of a segment file name: the 20-digit,
// zero-padded index of the segment's first entry (tidwall/wal's naming).
const segmentNameLen = 20

// maxEntrySize bounds the length prefix a reader accepts; larger values can
// only come from damaged bytes.
const maxEntrySize = 1 << 30

// segmentFile is one segment of a partition as found on disk.
type segmentFile struct {
	start uint64 // index of the first entry
	path  string
	size  int64
}

func segmentName(start uint64) string { return fmt.Sprintf("%020d", start) }

// parseSegmentName returns the first index encoded in a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	if len(name) != segmentNameLen {
		return 0, false
	}
	for i := range len(name) {
		if name[i] < '0' || name[i] > '9' {
			return 0, false
		}
	}
	start, err := strconv.ParseUint(name, 10, 64)
	return start, err == nil && start > 0
}

// listSegments returns the segments of partition directory dir, oldest first.
func listSegments(dir string) ([]segmentFile, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	segs := make([]segmentFile, 0, len(des))
	for _, de := range des {
		start, ok := parseSegmentName(de.Name())
		if !ok || !de.Type().IsRegular() {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue // deleted since ReadDir
		}
		segs = append(segs, segmentFile{start: start, path: filepath.Join(dir, de.Name()), size: info.Size()})
	}
	slices.SortFunc(segs, func(a, b segmentFile) int { return compareUint(a.start, b.start) })
	return segs, nil
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// entryStatus is the outcome of decoding one tidwall/wal entry.
type entryStatus int

const (
	entryOK      entryStatus = iota
	entryPartial             // more bytes are needed
	entryBadSize             // the length prefix cannot be valid
)

// nextEntry decodes the tidwall/wal binary entry at the start of b
// (uvarint length, then that many bytes). It returns the payload and the
// total size of the entry.
func nextEntry(b []byte) (payload []byte, size int, st entryStatus) {
	n, k := binary.Uvarint(b)
	switch {
	case k == 0:
		return nil, 0, entryPartial
	case k < 0 || n > maxEntrySize:
		return nil, 0, entryBadSize
	case uint64(len(b)-k) < n:
		return nil, 0, entryPartial
	}
	end := k + int(n)
	return b[k:end], end, entryOK
}
