package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Cursor file layout (16 bytes, little-endian):
//
//	[0:4] magic "FRC1"  [4:12] committed index  [12:16] CRC-32C of bytes 0..11
const (
	cursorMagic = "FRC1"
	cursorSize  = 16
	cursorsDir  = "cursors"
)

// Cursor is the durable position of one consumer (a sink) in one partition:
// the last index it has delivered. It lives in
// <dir>/cursors/<consumer>/p<partition>. Commit is atomic and durable and
// never moves the position backwards. One Cursor per consumer and partition
// should write at a time (one forwarder per sink); Load is safe from any
// process. A Cursor holds no open files and needs no Close.
type Cursor struct {
	path      string
	partition int

	mu        sync.Mutex
	committed uint64
}

// OpenCursor returns the cursor of consumer in partition of the log at dir,
// creating its directory. A cursor never committed loads as 0. consumer must
// be a non-empty name of letters, digits, '.', '_' and '-'.
func OpenCursor(dir, consumer string, partition int) (*Cursor, error) {
	if err := validConsumer(consumer); err != nil {
		return nil, err
	}
	if partition < 0 || partition > 999 {
		return nil, fmt.Errorf("wal: cursor partition %d: %w", partition, ErrNoPartition)
	}
	cdir := filepath.Join(dir, cursorsDir, consumer)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: create cursor dir: %w", err)
	}
	c := &Cursor{path: cursorPath(dir, consumer, partition), partition: partition}
	v, err := readCursor(c.path, partition)
	if err != nil {
		return nil, err
	}
	c.committed = v
	return c, nil
}

func cursorPath(dir, consumer string, partition int) string {
	return filepath.Join(dir, cursorsDir, consumer, fmt.Sprintf("p%03d", partition))
}

func validConsumer(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 128 {
		return fmt.Errorf("wal: invalid consumer name %q", name)
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z')
		if !ok {
			return fmt.Errorf("wal: invalid consumer name %q", name)
		}
	}
	return nil
}

// Load reads the committed position from disk (it may have been committed
// by another process). A damaged file returns a *CorruptionError.
func (c *Cursor) Load() (uint64, error) {
	return readCursor(c.path, c.partition)
}

// Commit durably records index as delivered: temporary file, fsync, rename,
// fsync of the directory. Committing the current position again is a no-op;
// a lower index fails with ErrCursorBackwards.
func (c *Cursor) Commit(index uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case index == c.committed:
		return nil
	case index < c.committed:
		return fmt.Errorf("wal: commit %d below %d: %w", index, c.committed, ErrCursorBackwards)
	}
	if err := writeFileAtomic(c.path, encodeCursor(index), 0o644); err != nil {
		return fmt.Errorf("wal: commit cursor %s: %w", c.path, err)
	}
	c.committed = index
	return nil
}

func encodeCursor(index uint64) []byte {
	b := make([]byte, cursorSize)
	copy(b, cursorMagic)
	binary.LittleEndian.PutUint64(b[4:12], index)
	binary.LittleEndian.PutUint32(b[12:16], crc32.Checksum(b[:12], castagnoli))
	return b
}

func decodeCursor(b []byte) (uint64, error) {
	if len(b) != cursorSize || string(b[:4]) != cursorMagic {
		return 0, errBadLength
	}
	if binary.LittleEndian.Uint32(b[12:16]) != crc32.Checksum(b[:12], castagnoli) {
		return 0, errChecksum
	}
	return binary.LittleEndian.Uint64(b[4:12]), nil
}

// readCursor returns the index committed in path, 0 when it does not exist.
func readCursor(path string, partition int) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("wal: read cursor: %w", err)
	}
	v, err := decodeCursor(b)
	if err != nil {
		return 0, &CorruptionError{Partition: partition, Segment: path, Err: fmt.Errorf("cursor file: %w", err)}
	}
	return v, nil
}

// LoadCursor reads the committed position of consumer in partition without
// creating anything (0 when never committed). Safe from any process.
func LoadCursor(dir, consumer string, partition int) (uint64, error) {
	if err := validConsumer(consumer); err != nil {
		return 0, err
	}
	return readCursor(cursorPath(dir, consumer, partition), partition)
}

// Consumers lists the consumers that have a cursor directory in the log at
// dir, sorted by name.
func Consumers(dir string) ([]string, error) {
	des, err := os.ReadDir(filepath.Join(dir, cursorsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wal: list consumers: %w", err)
	}
	var names []string
	for _, de := range des {
		if de.IsDir() && validConsumer(de.Name()) == nil {
			names = append(names, de.Name())
		}
	}
	return names, nil
}
