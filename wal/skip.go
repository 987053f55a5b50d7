package wal

import (
	"errors"
	"fmt"
	"io"
)

// ErrNotSkippable is returned by SkipCorruptEntry when the entry is not one
// it may skip: intact, damaged in its structure, or not the consumer's next.
var ErrNotSkippable = errors.New("wal: entry cannot be skipped")

// SkipCorruptEntry is the operator's way past a damaged entry that stops a
// consumer (walctl skip): it commits consumer's cursor in partition at
// index, so the consumer's next read starts at index+1. The entry is lost
// for that consumer; the log itself is not changed, and the entry's segment
// is deleted by retention like any other once every consumer has passed it.
//
// It refuses (ErrNotSkippable) unless the cursor is at index-1, so the
// consumer stopped right before the entry, and a read of the entry fails its
// frame check (checksum, version, stored index) while the entry after it,
// found through its length prefix, is intact (or not written yet). Damage to the
// structure of a segment is not skippable. The caller must make sure the
// consumer is not running (its delivery lock); the returned
// *CorruptionError describes what was skipped.
func SkipCorruptEntry(dir, consumer string, partition int, index uint64) (*CorruptionError, error) {
	if index == 0 {
		return nil, fmt.Errorf("%w: index 0", ErrNotSkippable)
	}
	cur, err := OpenCursor(dir, consumer, partition)
	if err != nil {
		return nil, err
	}
	pos, err := cur.Load()
	if err != nil {
		return nil, err
	}
	if pos != index-1 {
		return nil, fmt.Errorf("%w: consumer %s is at %d in partition %d, not at %d", ErrNotSkippable,
			consumer, pos, partition, index-1)
	}
	ce, err := frameDamage(dir, partition, index)
	if err != nil {
		return nil, err
	}
	if err := cur.Commit(index); err != nil {
		return nil, err
	}
	return ce, nil
}

// frameDamage returns the damage of entry index, which must fail its frame
// check while the entry after it can be reached.
func frameDamage(dir string, partition int, index uint64) (*CorruptionError, error) {
	r, err := OpenReader(dir, partition, index-1)
	if err != nil {
		return nil, err
	}
	_, err = r.Next()
	if cerr := r.Close(); cerr != nil {
		return nil, cerr
	}
	var ce *CorruptionError
	switch {
	case err == nil:
		return nil, fmt.Errorf("%w: entry %d of partition %d is intact", ErrNotSkippable, index, partition)
	case !errors.As(err, &ce):
		return nil, err
	case ce.Index != index || !frameOnly(ce.Err):
		return nil, fmt.Errorf("%w: %w", ErrNotSkippable, err)
	}
	// The entry after it, found through the damaged entry's length prefix,
	// must be intact (or not written yet): otherwise the prefix itself may
	// be wrong.
	r, err = OpenReader(dir, partition, index)
	if err != nil {
		return nil, fmt.Errorf("%w: entry %d: %w", ErrNotSkippable, index, err)
	}
	_, err = r.Next()
	if cerr := r.Close(); cerr != nil {
		return nil, cerr
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the entry after %d: %w", ErrNotSkippable, index, err)
	}
	return ce, nil
}

// frameOnly reports whether err is damage inside a frame, not to the
// length prefixes that delimit the entries.
func frameOnly(err error) bool {
	for _, e := range []error{errChecksum, errFrameVersion, errIndexMismatch} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
