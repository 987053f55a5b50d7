package wal

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// scanResult describes the valid prefix of a segment.
type scanResult struct {
	valid   int64  // bytes of complete, valid entries
	entries uint64 // number of those entries
	bad     error  // why the entry after the prefix is invalid (nil when none)
}

// scanSegment walks the entries of a segment whose first index is start and
// stops at the first entry that is incomplete or fails its frame check.
func scanSegment(data []byte, start uint64) scanResult {
	var r scanResult
	for int(r.valid) < len(data) {
		payload, size, st := nextEntry(data[r.valid:])
		switch st {
		case entryPartial:
			r.bad = errTornEntry
			return r
		case entryBadSize:
			r.bad = errBadLength
			return r
		}
		if _, err := decodeFrame(payload, start+r.entries); err != nil {
			r.bad = err
			return r
		}
		r.valid += int64(size)
		r.entries++
	}
	return r
}

// hasLaterFrame reports whether some complete, valid frame with an index
// above last starts anywhere in data. A torn write leaves none (its bytes were
// never written, or are zeros); damage in the middle of a log does.
func hasLaterFrame(data []byte, last uint64) bool {
	for off := range data {
		payload, _, st := nextEntry(data[off:])
		if st != entryOK {
			continue
		}
		if idx, ok := frameIndex(payload); ok && idx > last {
			return true
		}
	}
	return false
}

// pageSize is the unit in which a machine crash can lose written but
// unsynced file data.
const pageSize = 4096

// isTorn decides whether the damage found at r.valid is a torn tail (bytes
// of the last, never fsynced batch) or damage to synced data. The committer
// fsyncs every batch before writing the next, so at a crash at most one
// batch, at most window bytes, was unsynced. A torn batch is cut short, or
// has pages that never reached the disk (they read as zeros) while later
// pages did. Damage followed by valid entries that is not such a lost page
// near the end is damage to synced data.
func isTorn(data []byte, r scanResult, last uint64, window int64) bool {
	if !hasLaterFrame(data[r.valid+1:], last) {
		return true
	}
	return int64(len(data))-r.valid <= window && lostPage(data, r.valid)
}

// lostPage reports whether the page holding off, or the one after it (a
// damaged entry may start just before a lost page), is all zeros.
func lostPage(data []byte, off int64) bool {
	for p := off / pageSize * pageSize; p <= off+pageSize && p < int64(len(data)); p += pageSize {
		end := min(p+pageSize, int64(len(data)))
		if allZero(data[p:end]) {
			return true
		}
	}
	return false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// repairTail makes the last segment of partition directory dir end at its
// last complete, valid entry, so the writer can count its entries. A torn tail (see
// isTorn; window is the largest batch the writer may have left unsynced) is
// copied to <segment>.<unix-nanos>.broken, then cut off. Other damage is
// reported as a *CorruptionError and nothing is changed. The surviving tail
// is fsynced, because a crashed writer may have left written but unsynced
// bytes.
func repairTail(dir string, partition int, window int64, log *slog.Logger) error {
	segs, err := listSegments(dir)
	if err != nil || len(segs) == 0 {
		return err
	}
	last := segs[len(segs)-1]
	data, err := os.ReadFile(last.path)
	if err != nil {
		return fmt.Errorf("read tail segment: %w", err)
	}
	r := scanSegment(data, last.start)
	switch {
	case r.bad == nil:
	case nonZeroLen(data) <= r.valid:
		// Only zeros follow the last entry: space the writer preallocated
		// (Options.Preallocate) or pages that never reached the disk. They
		// hold nothing to keep.
		if err := os.Truncate(last.path, r.valid); err != nil {
			return fmt.Errorf("cut zeros after the last entry: %w", err)
		}
		log.Info("wal: cut zeros after the last entry", "partition", partition, "segment", last.path,
			"kept_bytes", r.valid, "dropped_bytes", int64(len(data))-r.valid)
	default:
		if err := cutTail(last, data, r, partition, window, log); err != nil {
			return err
		}
	}
	return syncFile(last.path)
}

// nonZeroLen returns the length of data without its trailing zero bytes.
func nonZeroLen(data []byte) int64 {
	n := len(data)
	for n >= 8 && binary.NativeEndian.Uint64(data[n-8:n]) == 0 {
		n -= 8
	}
	for n > 0 && data[n-1] == 0 {
		n--
	}
	return int64(n)
}

func cutTail(last segmentFile, data []byte, r scanResult, partition int, window int64, log *slog.Logger) error {
	index := last.start + r.entries
	// Zeros written ahead by the writer (Options.Preallocate) follow the
	// last batch; the window of the unsynced batch ends where they start.
	if !isTorn(data[:nonZeroLen(data)], r, index-1, window) {
		return &CorruptionError{Partition: partition, Index: index, Segment: last.path, Offset: r.valid, Err: r.bad}
	}
	broken := fmt.Sprintf("%s.%d.broken", last.path, time.Now().UnixNano())
	if err := writeFileSync(broken, data, 0o644); err != nil {
		return fmt.Errorf("keep broken tail: %w", err)
	}
	if err := os.Truncate(last.path, r.valid); err != nil {
		return fmt.Errorf("truncate torn tail: %w", err)
	}
	log.Warn("wal: cut torn tail", "partition", partition, "segment", last.path,
		"first_dropped_index", index, "kept_bytes", r.valid, "dropped_bytes", int64(len(data))-r.valid,
		"reason", r.bad.Error(), "copy", broken)
	return nil
}
