package wal

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by every operation on a closed Log or Tailer.
	ErrClosed = errors.New("wal: closed")
	// ErrLocked is returned by Open when another writer holds the directory lock.
	// The wrapping error names the directory and the holder's pid and host.
	ErrLocked = errors.New("wal: locked by another writer")
	// ErrFull is returned by Append when the log has reached Options.DiskBudgetBytes
	// and the overflow policy does not allow deleting undelivered records.
	ErrFull = errors.New("wal: disk budget exhausted")
	// ErrTruncated is returned by OpenTailer and OpenReader when the requested
	// position lies below the first retained index: those entries were deleted.
	ErrTruncated = errors.New("wal: entries below the first retained index were deleted")
	// ErrAheadOfLog is returned by OpenTailer when the requested position lies
	// beyond the last durable index the writer has published. After a machine
	// crash this is transient until the writer reopens the log and publishes
	// its watermark again, so callers should retry; if it persists with a
	// running writer, the cursor and the log disagree (entries were lost).
	ErrAheadOfLog = errors.New("wal: position is beyond the last durable index")
	// ErrPartitionMismatch is returned by Open when Options.Partitions differs
	// from the partition count recorded in meta.json.
	ErrPartitionMismatch = errors.New("wal: partition count differs from the log's")
	// ErrNoPartition is returned when a partition number is out of range.
	ErrNoPartition = errors.New("wal: no such partition")
	// ErrCursorBackwards is returned by Cursor.Commit for an index below the
	// committed one. Cursors never move backwards.
	ErrCursorBackwards = errors.New("wal: cursor cannot move backwards")
	// ErrTooLarge is returned by Append for a record over MaxRecordSize.
	ErrTooLarge = errors.New("wal: record too large")
	// ErrCorrupt is matched (errors.Is) by every *CorruptionError.
	ErrCorrupt = errors.New("wal: corrupt")
	// ErrUnsupportedVersion is returned for a meta.json, frame or cursor written
	// by a newer format version.
	ErrUnsupportedVersion = errors.New("wal: unsupported format version")
)

var (
	errShortFrame    = errors.New("frame shorter than its header")
	errFrameVersion  = errors.New("unknown frame version")
	errChecksum      = errors.New("checksum mismatch")
	errIndexMismatch = errors.New("stored index differs from position")
	errBadLength     = errors.New("invalid entry length")
	errGap           = errors.New("entries missing between segments")
	errSegmentTail   = errors.New("garbage after the last entry of a sealed segment")
	errTornEntry     = errors.New("incomplete entry")
)

// CorruptionError reports damaged data: a frame whose checksum, version,
// length or index does not match, found in Segment (a file path: a segment,
// or a cursor file) of Partition. Index is the index the damaged entry has
// (or would have) in the log; it is 0 for a cursor file.
// It matches ErrCorrupt with errors.Is and unwraps to the specific cause.
type CorruptionError struct {
	Partition int
	Index     uint64
	Segment   string
	Offset    int64
	Err       error
}

// Error describes the corruption with its location.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corrupt entry in partition %d at index %d (segment %s, offset %d): %v",
		e.Partition, e.Index, e.Segment, e.Offset, e.Err)
}

// Unwrap returns the specific cause.
func (e *CorruptionError) Unwrap() error { return e.Err }

// Is reports whether target is ErrCorrupt.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }
