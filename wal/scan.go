package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// errWait means no further durable entry is available yet.
var errWait = errors.New("wal: no entry available yet")

const (
	readChunk   = 256 << 10
	minReadRoom = 64 << 10
)

// scanner reads one partition's entries straight from its segment files,
// without tidwall/wal and without any lock, so it works beside a writer in
// another process. It delivers only entries at or below the writer's durable
// watermark, verifies every frame, stops at a partial entry and resumes
// there, and follows segment rotation. Not safe for concurrent use.
type scanner struct {
	dir       string // partition directory
	partition int
	synced    *syncedReader
	wm        watermark

	seg  segmentFile
	f    *os.File
	base int64  // file offset of buf[0]
	buf  []byte // bytes read from f
	pos  int    // the entry with index next starts at buf[pos]
	next uint64
}

// openScanner positions a scanner on the entry after index after.
func openScanner(dir string, partition int, after uint64) (*scanner, error) {
	pdir := partitionDir(dir, partition)
	s := &scanner{dir: pdir, partition: partition, synced: newSyncedReader(pdir)}
	err := s.seek(after)
	if err != nil {
		return nil, errors.Join(err, s.close())
	}
	return s, nil
}

func (s *scanner) seek(after uint64) error {
	wm, err := s.synced.load()
	if err != nil {
		return err
	}
	s.wm = wm
	segs, err := listSegments(s.dir)
	if err != nil {
		return fmt.Errorf("wal: partition %d: %w", s.partition, err)
	}
	if len(segs) == 0 {
		return fmt.Errorf("wal: partition %d has no segments: %w", s.partition, fs.ErrNotExist)
	}
	if after+1 < segs[0].start {
		return fmt.Errorf("wal: partition %d: position %d, first retained index %d: %w",
			s.partition, after, segs[0].start, ErrTruncated)
	}
	if after > wm.index {
		return fmt.Errorf("wal: partition %d: position %d, last durable index %d: %w",
			s.partition, after, wm.index, ErrAheadOfLog)
	}
	i := len(segs) - 1
	for segs[i].start > after+1 {
		i--
	}
	if err := s.openSegment(segs[i]); err != nil {
		return err
	}
	return s.skipTo(after)
}

// skipTo steps over the entries up to index after. They are not
// delivered, so only their structure (length prefixes) is followed and
// their frames are not checked: a consumer positioned past a damaged entry
// (SkipCorruptEntry) reads on from the entry after it.
func (s *scanner) skipTo(after uint64) error {
	for s.next <= after {
		if _, err := s.step(false); err != nil {
			if errors.Is(err, errWait) {
				return fmt.Errorf("wal: partition %d: entry %d is not readable yet", s.partition, s.next)
			}
			return err
		}
	}
	return nil
}

func (s *scanner) openSegment(seg segmentFile) error {
	f, err := os.Open(seg.path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("wal: partition %d: segment %s: %w", s.partition, seg.path, ErrTruncated)
	}
	if err != nil {
		return fmt.Errorf("wal: partition %d: %w", s.partition, err)
	}
	if s.f != nil {
		_ = s.f.Close() // read-only; nothing to flush
	}
	s.f, s.seg, s.base, s.buf, s.pos, s.next = f, seg, 0, s.buf[:0], 0, seg.start
	return nil
}

// read returns the next durable entry, errWait when there is none yet, or
// a *CorruptionError. The entry's Data is valid until the next call.
func (s *scanner) read() (Entry, error) { return s.step(true) }

// step is read; without verify it steps over the next entry by its length
// prefix and returns only its index.
func (s *scanner) step(verify bool) (Entry, error) {
	for {
		if s.next > s.wm.index {
			if err := s.refresh(); err != nil || s.next > s.wm.index {
				return Entry{}, orWait(err)
			}
		}
		if e, ok, err := s.decode(verify); ok || err != nil {
			return e, err
		}
		if more, err := s.fill(); more || err != nil {
			if err != nil {
				return Entry{}, err
			}
			continue
		}
		if moved, err := s.advance(); !moved || err != nil {
			return Entry{}, orWait(err)
		}
	}
}

func orWait(err error) error {
	if err != nil {
		return err
	}
	return errWait
}

// refresh reloads the watermark. When it has moved, the bytes buffered past
// the next entry are dropped and read again: they were read before the
// entries now durable were written (in a preallocated tail they may be the
// zeros those entries overwrote; the writer may also have restarted and cut
// a torn tail). Every entry at or below the new watermark was written
// before the watermark, so bytes read after loading it hold those entries
// whole.
func (s *scanner) refresh() error {
	wm, err := s.synced.load()
	if err != nil {
		return err
	}
	if wm != s.wm {
		s.base += int64(s.pos)
		s.buf, s.pos = s.buf[:0], 0
	}
	s.wm = wm
	return nil
}

// decode verifies and returns the entry at buf[pos] if it is complete
// (without verify, it returns only the index).
func (s *scanner) decode(verify bool) (Entry, bool, error) {
	payload, size, st := nextEntry(s.buf[s.pos:])
	switch st {
	case entryPartial:
		return Entry{}, false, nil
	case entryBadSize:
		return Entry{}, false, s.corruption(errBadLength)
	}
	e := Entry{Index: s.next}
	if !verify && len(payload) < frameHeaderSize {
		return Entry{}, false, s.corruption(errShortFrame)
	}
	if verify {
		var err error
		if e, err = decodeFrame(payload, s.next); err != nil {
			return Entry{}, false, s.corruption(err)
		}
	}
	s.pos += size
	s.next++
	return e, true, nil
}

func (s *scanner) corruption(err error) error {
	return &CorruptionError{Partition: s.partition, Index: s.next, Segment: s.seg.path,
		Offset: s.base + int64(s.pos), Err: err}
}

// fill reads more of the current segment; it reports whether bytes came.
func (s *scanner) fill() (bool, error) {
	if s.pos > 0 && s.pos >= len(s.buf)/2 {
		n := copy(s.buf, s.buf[s.pos:])
		s.base += int64(s.pos)
		s.buf, s.pos = s.buf[:n], 0
	}
	if cap(s.buf)-len(s.buf) < minReadRoom {
		grown := make([]byte, len(s.buf), max(2*cap(s.buf), len(s.buf)+readChunk))
		copy(grown, s.buf)
		s.buf = grown
	}
	end := len(s.buf)
	n, err := s.f.ReadAt(s.buf[end:cap(s.buf)], s.base+int64(end))
	s.buf = s.buf[:end+n]
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("wal: partition %d: read %s: %w", s.partition, s.seg.path, err)
	}
	return n > 0, nil
}

// advance moves to the next segment once the writer has started one. The
// writer writes the whole of a segment before it creates the next, so by
// then the current one is complete: leftover bytes or a gap in the indexes
// are corruption.
func (s *scanner) advance() (bool, error) {
	segs, err := listSegments(s.dir)
	if err != nil {
		return false, fmt.Errorf("wal: partition %d: %w", s.partition, err)
	}
	i := 0
	for i < len(segs) && segs[i].start <= s.seg.start {
		i++
	}
	if i == len(segs) {
		return false, nil
	}
	if more, err := s.fill(); more || err != nil {
		return more, err
	}
	switch {
	case s.pos < len(s.buf):
		return false, s.corruption(errSegmentTail)
	case segs[0].start > s.next:
		return false, fmt.Errorf("wal: partition %d: entry %d, first retained index %d: %w",
			s.partition, s.next, segs[0].start, ErrTruncated)
	case segs[i].start != s.next:
		return false, s.corruption(fmt.Errorf("%w: next segment starts at %d", errGap, segs[i].start))
	}
	return true, s.openSegment(segs[i])
}

func (s *scanner) close() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	return errors.Join(err, s.synced.close())
}
