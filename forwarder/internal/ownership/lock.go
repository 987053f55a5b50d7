package ownership

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Lock is an exclusive flock(2) on an open file. Locks conflict between
// open files even within one process.
type Lock struct {
	f *os.File
}

// TryLock takes the exclusive lock on path (creating the file) without
// waiting. ok is false when another open file holds it.
func TryLock(path string) (l *Lock, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("ownership: open lock %s: %w", path, err)
	}
	l, ok, err = tryLockFile(f)
	if !ok || err != nil {
		f.Close()
	}
	return l, ok, err
}

func tryLockFile(f *os.File) (*Lock, bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return &Lock{f: f}, true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return nil, false, nil
		default:
			return nil, false, fmt.Errorf("ownership: flock %s: %w", f.Name(), err)
		}
	}
}

// Unlock releases the lock and closes the file.
func (l *Lock) Unlock() error {
	uerr := unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	cerr := l.f.Close()
	if err := errors.Join(uerr, cerr); err != nil {
		return fmt.Errorf("ownership: unlock %s: %w", l.f.Name(), err)
	}
	return nil
}
