package wal

import (
	"encoding/binary"
	"hash/crc32"
	"time"
)

// Frame layout, inside each tidwall/wal entry (all integers little-endian):
//
//	[0]      format version (frameVersion)
//	[1:5]    CRC-32C over byte 0 and bytes 5..end
//	[5:13]   index of the entry in its partition
//	[13:21]  append time, Unix nanoseconds
//	[21:]    the record
const (
	frameVersion    = 1
	frameHeaderSize = 21
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// newFrame returns a frame buffer holding a copy of data, to be sealed later.
func newFrame(data []byte) []byte {
	f := make([]byte, frameHeaderSize+len(data))
	copy(f[frameHeaderSize:], data)
	return f
}

// sealFrame writes the header of f for the given index and append time.
func sealFrame(f []byte, index uint64, appendedAt int64) {
	f[0] = frameVersion
	binary.LittleEndian.PutUint64(f[5:13], index)
	binary.LittleEndian.PutUint64(f[13:21], uint64(appendedAt))
	binary.LittleEndian.PutUint32(f[1:5], frameChecksum(f))
}

func frameChecksum(f []byte) uint32 {
	c := crc32.Update(0, castagnoli, f[:1])
	return crc32.Update(c, castagnoli, f[5:])
}

// decodeFrame verifies f as the frame of entry want and returns the entry.
// The entry's Data aliases f.
func decodeFrame(f []byte, want uint64) (Entry, error) {
	if len(f) < frameHeaderSize {
		return Entry{}, errShortFrame
	}
	if f[0] != frameVersion {
		return Entry{}, errFrameVersion
	}
	if binary.LittleEndian.Uint32(f[1:5]) != frameChecksum(f) {
		return Entry{}, errChecksum
	}
	if binary.LittleEndian.Uint64(f[5:13]) != want {
		return Entry{}, errIndexMismatch
	}
	ns := int64(binary.LittleEndian.Uint64(f[13:21]))
	return Entry{Index: want, AppendedAt: time.Unix(0, ns), Data: f[frameHeaderSize:]}, nil
}

// frameIndex returns the index stored in a frame that passed its checksum,
// or false when f is not a valid frame of any index.
func frameIndex(f []byte) (uint64, bool) {
	if len(f) < frameHeaderSize || f[0] != frameVersion {
		return 0, false
	}
	if binary.LittleEndian.Uint32(f[1:5]) != frameChecksum(f) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(f[5:13]), true
}

func putUvarint(b []byte, x uint64) int { return binary.PutUvarint(b, x) }
