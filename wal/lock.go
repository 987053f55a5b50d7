package wal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

const lockFile = "LOCK"

// dirLock is an exclusive flock(2) on <dir>/LOCK, held for the life of a
// writer. The kernel releases it when the process dies, so a crashed writer
// never leaves a stale lock behind.
type dirLock struct{ f *os.File }

func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: open lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder := readHolder(f)
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (holder: %s)", ErrLocked, dir, holder)
		}
		return nil, fmt.Errorf("wal: lock %s: %w", path, err)
	}
	if err := writeHolder(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return &dirLock{f: f}, nil
}

func readHolder(f *os.File) string {
	b := make([]byte, 256)
	n, _ := f.ReadAt(b, 0)
	if s := string(bytes.TrimSpace(b[:n])); s != "" {
		return s
	}
	return "unknown"
}

func writeHolder(f *os.File) error {
	host, _ := os.Hostname()
	s := fmt.Sprintf("pid=%d host=%s\n", os.Getpid(), host)
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("wal: write lock holder: %w", err)
	}
	if _, err := f.WriteAt([]byte(s), 0); err != nil {
		return fmt.Errorf("wal: write lock holder: %w", err)
	}
	return nil
}

// unlock releases the lock. The holder line stays; it is informational only.
func (l *dirLock) unlock() error {
	err := unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	return errors.Join(wrapErr("wal: unlock", err), l.f.Close())
}
