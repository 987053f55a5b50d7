package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Reader reads the durable entries of one partition once, from any process,
// and returns io.EOF at the end instead of waiting. Not safe for concurrent
// use.
type Reader struct{ s *scanner }

// OpenReader opens partition of the log at dir, positioned after index
// after (0 reads from the first entry); see OpenTailer for its errors.
func OpenReader(dir string, partition int, after uint64) (*Reader, error) {
	if err := checkPartition(dir, partition); err != nil {
		return nil, err
	}
	s, err := openScanner(dir, partition, after)
	if err != nil {
		return nil, err
	}
	return &Reader{s: s}, nil
}

// Next returns the next durable entry, io.EOF after the last one, or a
// *CorruptionError. The entry's Data is valid until the next call.
func (r *Reader) Next() (Entry, error) {
	e, err := r.s.read()
	if errors.Is(err, errWait) {
		return Entry{}, io.EOF
	}
	return e, err
}

// Close releases the Reader's files.
func (r *Reader) Close() error { return r.s.close() }

// PartitionStat describes one partition, as seen from any process.
type PartitionStat struct {
	Partition  int
	FirstIndex uint64 // first retained index (LastIndex+1 when empty)
	LastIndex  uint64 // last durable index
	Segments   int
	Bytes      int64
}

// StatPartition reads the retained range and size of a partition without
// reading its entries. It is safe beside a writer in another process.
func StatPartition(dir string, partition int) (PartitionStat, error) {
	if err := checkPartition(dir, partition); err != nil {
		return PartitionStat{}, err
	}
	pdir := partitionDir(dir, partition)
	segs, err := listSegments(pdir)
	if err != nil {
		return PartitionStat{}, fmt.Errorf("wal: partition %d: %w", partition, err)
	}
	r := newSyncedReader(pdir)
	wm, err := r.load()
	if err := errors.Join(err, r.close()); err != nil {
		return PartitionStat{}, err
	}
	st := PartitionStat{Partition: partition, LastIndex: wm.index, Segments: len(segs), FirstIndex: wm.index + 1}
	if len(segs) > 0 {
		st.FirstIndex = min(segs[0].start, st.FirstIndex)
	}
	for _, s := range segs {
		st.Bytes += s.size
	}
	return st, nil
}

// VerifyResult is the outcome of VerifyPartition.
type VerifyResult struct {
	Partition int
	Segments  int
	Entries   uint64
	// TornTail is the number of bytes after the last complete entry of the
	// last segment that the next Open will cut (0 for a clean log).
	TornTail int64
	// Zeros is the number of zero bytes after the last entry of the last
	// segment: space a running writer keeps written ahead
	// (Options.Preallocate), cut at Close or by the next Open.
	Zeros int64
}

// VerifyPartition reads every segment of a partition and checks every
// frame, the continuity of indexes across segments and the tail. The first
// damage found is returned as a *CorruptionError. It reads whole segments
// into memory, one at a time.
func VerifyPartition(dir string, partition int) (VerifyResult, error) {
	res := VerifyResult{Partition: partition}
	if err := checkPartition(dir, partition); err != nil {
		return res, err
	}
	segs, err := listSegments(partitionDir(dir, partition))
	if err != nil {
		return res, fmt.Errorf("wal: partition %d: %w", partition, err)
	}
	res.Segments = len(segs)
	for i, seg := range segs {
		if err := verifySegment(&res, seg, i == len(segs)-1, segs[min(i+1, len(segs)-1)].start); err != nil {
			return res, err
		}
	}
	return res, nil
}

func verifySegment(res *VerifyResult, seg segmentFile, last bool, nextStart uint64) error {
	data, err := os.ReadFile(seg.path)
	if err != nil {
		return fmt.Errorf("wal: verify: %w", err)
	}
	r := scanSegment(data, seg.start)
	res.Entries += r.entries
	end := seg.start + r.entries
	cerr := &CorruptionError{Partition: res.Partition, Index: end, Segment: seg.path, Offset: r.valid, Err: r.bad}
	nonZero := nonZeroLen(data)
	switch {
	case r.bad != nil && last && nonZero <= r.valid:
		res.Zeros = int64(len(data)) - r.valid
	case r.bad != nil && (!last || !isTorn(data[:nonZero], r, end-1, tornWindow(Options{}.withDefaults()))):
		return cerr
	case r.bad != nil:
		res.TornTail = int64(len(data)) - r.valid
	case !last && end != nextStart:
		cerr.Err = fmt.Errorf("%w: next segment starts at %d", errGap, nextStart)
		return cerr
	}
	return nil
}
