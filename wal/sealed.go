package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// sealedCheckBytes bounds the sealed segments Open walks: the newest ones,
// up to this many bytes. A walk reads the whole file (about 0.4 s per GiB
// from the page cache on the benchmark machine, the disk's read rate from
// cold), and a gateway opens its listener only after Open, so a long
// backlog must not delay the start in proportion; older segments are
// checked by every reader that reaches them and by walctl verify.
var sealedCheckBytes int64 = 256 << 20 // a variable for tests

// checkSealed walks the length prefixes of the newest sealed (non-tail)
// segments of a partition (sealedCheckBytes), without reading frames: each
// must hold exactly as many entries as lie between its first index and the
// next segment's, and its last entry must end exactly at the end of the
// file. The writer fsyncs a segment before it creates the next one, so no
// crash leaves a sealed segment otherwise; a failure is damage to data on
// the disk, reported as a *CorruptionError naming the segment.
func checkSealed(segs []segmentFile, partition int) error {
	if len(segs) < 2 {
		return nil
	}
	first := len(segs) - 2
	for total := segs[first].size; first > 0 && total+segs[first-1].size <= sealedCheckBytes; {
		first--
		total += segs[first].size
	}
	br := bufio.NewReaderSize(nil, 1<<20)
	for i := first; i < len(segs)-1; i++ {
		if err := walkSealed(br, segs[i], segs[i+1].start, partition); err != nil {
			return err
		}
	}
	return nil
}

func walkSealed(br *bufio.Reader, seg segmentFile, next uint64, partition int) error {
	f, err := os.Open(seg.path)
	if err != nil {
		return fmt.Errorf("check sealed segment: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	br.Reset(f)
	var off int64
	index := seg.start
	corrupt := func(cause error) error {
		return &CorruptionError{Partition: partition, Index: index, Segment: seg.path, Offset: off, Err: cause}
	}
	for {
		n, err := binary.ReadUvarint(br)
		switch {
		case errors.Is(err, io.EOF):
			if index != next {
				return corrupt(fmt.Errorf("%w: segment ends before index %d, where the next segment starts", errGap, next))
			}
			return nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			return corrupt(errTornEntry)
		case errors.As(err, new(*fs.PathError)):
			return fmt.Errorf("check sealed segment: %w", err)
		case index >= next:
			return corrupt(errSegmentTail)
		case err != nil || n < frameHeaderSize /* err: the varint overflows */ || n > maxEntrySize:
			return corrupt(fmt.Errorf("%w: %d bytes", errBadLength, n))
		}
		skipped, err := br.Discard(int(n))
		if errors.Is(err, io.EOF) {
			return corrupt(errTornEntry)
		}
		if err != nil {
			return fmt.Errorf("check sealed segment %s: %w", seg.path, err)
		}
		off += int64(uvarintLen(n) + skipped)
		index++
	}
}
