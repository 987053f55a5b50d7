package wal

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// tailFile is the partition's handle on its tail segment. Through it the
// committer writes and fdatasyncs each group commit and
// keeps zeros written and synced ahead of the write position
// (Options.Preallocate). Overwriting blocks that are already allocated,
// written and synced changes no file metadata, so fdatasync flushes the data
// alone and needs no journal commit; appending at the end of the file needs
// one for every commit (measured on ext4: p50 0.17 ms against 0.29 ms).
//
// Invariants, which keep the zeros invisible to everything that parses a
// segment:
//   - Zeros exist only after the last entry of the tail segment. Before a
//     batch that starts a new segment, the tail is cut back to its entries,
//     and the committer fsyncs it before it creates the next file, so a
//     sealed segment never holds zeros.
//   - Close cuts the zeros; after a crash, Open's tail repair cuts them
//     (repair.go) before the committer counts the tail's entries (it would
//     read zeros as empty entries), as tidwall/wal, which parses the whole
//     tail file, also requires.
//   - Readers deliver only entries at or below the durable watermark and
//     re-read the bytes past it whenever the watermark moves (scan.go), so
//     zeros read before an entry was written are never decoded.
//
// The committer writes the entries through this handle too: tidwall/wal
// defines the segment format, but this package writes the files itself.
type tailFile struct {
	f    *os.File
	path string
	end  int64 // length of the file: entries, then zeros written and synced
	// syncFault, set by tests only, is returned by datasync in place of
	// calling fdatasync(2): a failed sync whose writes succeeded.
	syncFault error
}

// zeroChunk is the unit in which zeros are written ahead.
var zeroChunk = make([]byte, 256<<10)

func openTailFile(path string) (*tailFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open tail segment: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("stat tail segment: %w", err), f.Close())
	}
	return &tailFile{f: f, path: path, end: info.Size()}, nil
}

// createTailFile creates a new, empty tail segment at path (truncating any
// file of that name, as tidwall/wal does when it starts a segment).
func createTailFile(path string) (*tailFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	return &tailFile{f: f, path: path}, nil
}

// write writes encoded entries at offset off, the end of the entries,
// over any zeros written ahead.
func (t *tailFile) write(b []byte, off int64) error {
	if _, err := t.f.WriteAt(b, off); err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	t.end = max(t.end, off+int64(len(b)))
	return nil
}

// fsync makes the file durable, its length included: fsync(2), used to seal
// a segment and at Close.
func (t *tailFile) fsync() error { return wrapErr("fsync "+t.path, t.f.Sync()) }

// datasync makes the written bytes of the file durable: fdatasync(2), which
// unlike tidwall/wal's fsync does not also write the inode's timestamps.
func (t *tailFile) datasync() error {
	if t.syncFault != nil {
		return wrapErr("fdatasync "+t.path, t.syncFault)
	}
	rc, err := t.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("fdatasync %s: %w", t.path, err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		for {
			serr = unix.Fdatasync(int(fd))
			if !errors.Is(serr, unix.EINTR) {
				return
			}
		}
	})
	if err = errors.Join(err, serr); err != nil {
		return fmt.Errorf("fdatasync %s: %w", t.path, err) // no string built per commit
	}
	return nil
}

// extend writes zeros from from (the end of the entries) up to to, after
// any zeros already there, without syncing.
func (t *tailFile) extend(from, to int64) error {
	for off := max(from, t.end); off < to; {
		n := min(int64(len(zeroChunk)), to-off)
		if _, err := t.f.WriteAt(zeroChunk[:n], off); err != nil {
			return fmt.Errorf("preallocate %s: %w", t.path, err)
		}
		off += n
		t.end = off
	}
	return nil
}

// excess returns the bytes of zeros after size, the end of the entries.
func (t *tailFile) excess(size int64) int64 { return max(0, t.end-size) }

// cut shortens the file to size, the end of its entries, dropping the
// zeros written ahead. The caller makes the new length durable
// (tidwall/wal fsyncs a segment before it starts the next one; Close and
// Open fsync the tail).
func (t *tailFile) cut(size int64) error {
	if t.end > size {
		if err := t.f.Truncate(size); err != nil {
			return fmt.Errorf("cut preallocated zeros of %s: %w", t.path, err)
		}
	}
	t.end = size
	return nil
}

func (t *tailFile) close() error { return wrapErr("close "+t.path, t.f.Close()) }
