package deadletter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Writer appends the letters of one partition. It is safe for concurrent
// use, but only one Writer (one process) may exist per file: the caller
// must hold the partition's ownership lock.
type Writer struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// NewWriter returns the writer of partition's file under dir. The file is
// created (and a torn tail repaired) on the first Put.
func NewWriter(dir string, partition int) *Writer {
	return &Writer{path: Path(dir, partition)}
}

// Path is the dead-letter file of partition under dir.
func Path(dir string, partition int) string {
	return filepath.Join(dir, fmt.Sprintf("p%03d.dlq", partition))
}

// Put appends letters and fsyncs: when it returns nil they are durable.
func (w *Writer) Put(_ context.Context, letters []Letter) error {
	var buf []byte
	for _, l := range letters {
		frame, err := encode(l)
		if err != nil {
			return err
		}
		buf = append(buf, frame...)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.open(); err != nil {
		return err
	}
	if _, err := w.f.Write(buf); err != nil {
		return fmt.Errorf("deadletter: append to %s: %w", w.path, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("deadletter: sync %s: %w", w.path, err)
	}
	return nil
}

// open opens the file for appending once, after cutting any damaged tail.
func (w *Writer) open() error {
	if w.f != nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(w.path), 0o755); err != nil {
		return fmt.Errorf("deadletter: create dir: %w", err)
	}
	if err := repair(w.path); err != nil {
		return err
	}
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("deadletter: open %s: %w", w.path, err)
	}
	w.f = f
	return syncDir(filepath.Dir(w.path))
}

// Close closes the file, if it was opened.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("deadletter: close %s: %w", w.path, err)
	}
	return nil
}

// repair truncates path after its last intact frame. A damaged frame that is
// not simply cut short is kept in a ".broken" copy of the file first.
func repair(path string) error {
	good, err := scanValid(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if errors.Is(err, ErrCorrupt) {
		if cerr := copyFile(path, path+".broken"); cerr != nil {
			return cerr
		}
	} else if err != nil && !errors.Is(err, errTorn) {
		return err
	}
	if err == nil {
		return nil
	}
	if terr := os.Truncate(path, good); terr != nil {
		return fmt.Errorf("deadletter: truncate %s at %d: %w", path, good, terr)
	}
	return nil
}

// scanValid returns the length of the intact prefix of path and the error
// that ended it (nil at a clean end).
func scanValid(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("deadletter: open %s: %w", path, err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var good int64
	for {
		_, n, err := decode(r)
		if errors.Is(err, io.EOF) {
			return good, nil
		}
		if err != nil {
			return good, err
		}
		good += int64(n)
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("deadletter: read %s: %w", src, err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		return fmt.Errorf("deadletter: keep damaged copy %s: %w", dst, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("deadletter: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("deadletter: sync dir %s: %w", dir, err)
	}
	return nil
}

// Partitions lists the partitions that have a dead-letter file under dir.
func Partitions(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("deadletter: list %s: %w", dir, err)
	}
	var out []int
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), ".dlq")
		if p, err := strconv.Atoi(strings.TrimPrefix(n, "p")); ok && err == nil && strings.HasPrefix(n, "p") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}
