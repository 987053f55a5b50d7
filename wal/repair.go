package wal

import (
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

// repairTail makes the last segment of partition directory dir end at its
// last complete, valid entry, so tidwall/wal can open it. A torn, partial or
// zero-filled tail is copied to <segment>.<unix-nanos>.broken, then cut off.
// Damage followed by valid entries is not a torn tail: it is reported as a
// *CorruptionError and nothing is changed. The surviving tail is fsynced,
// because a crashed writer may have left written but unsynced bytes.
func repairTail(dir string, partition int, log *slog.Logger) error {
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
	if r.bad != nil {
		if err := cutTail(last, data, r, partition, log); err != nil {
			return err
		}
	}
	return syncFile(last.path)
}

func cutTail(last segmentFile, data []byte, r scanResult, partition int, log *slog.Logger) error {
	index := last.start + r.entries
	if hasLaterFrame(data[r.valid+1:], index-1) {
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
