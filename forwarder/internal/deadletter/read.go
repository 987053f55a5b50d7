package deadletter

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Numbered is a letter with its number in its partition's file (from 1).
type Numbered struct {
	Seq uint64
	Letter
}

// Read calls fn for every letter of partition under dir, in order, with
// numbers above after (0 reads all). An incomplete last frame (being
// written) ends the read; a damaged frame returns an error matching
// ErrCorrupt. A partition without a file has no letters.
func Read(dir string, partition int, after uint64, fn func(Numbered) error) error {
	f, err := os.Open(Path(dir, partition))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deadletter: open: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for seq := uint64(1); ; seq++ {
		l, _, err := decode(r)
		if errors.Is(err, io.EOF) || errors.Is(err, errTorn) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("deadletter: %s letter %d: %w", Path(dir, partition), seq, err)
		}
		if seq <= after {
			continue
		}
		if err := fn(Numbered{Seq: seq, Letter: l}); err != nil {
			return err
		}
	}
}

// Replayed returns how many letters of partition under dir have been
// replayed (0 if never).
func Replayed(dir string, partition int) (uint64, error) {
	b, err := os.ReadFile(replayPath(dir, partition))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("deadletter: read replay state: %w", err)
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: replay state of partition %d has %d bytes", ErrCorrupt, partition, len(b))
	}
	return binary.LittleEndian.Uint64(b), nil
}

// SetReplayed durably records that the first n letters of partition under
// dir have been replayed.
func SetReplayed(dir string, partition int, n uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	path := replayPath(dir, partition)
	tmp := path + ".tmp"
	if err := writeSynced(tmp, b[:]); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("deadletter: save replay state: %w", err)
	}
	return syncDir(dir)
}

func replayPath(dir string, partition int) string {
	return filepath.Join(dir, fmt.Sprintf("p%03d.replayed", partition))
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("deadletter: create %s: %w", path, err)
	}
	_, werr := f.Write(b)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("deadletter: write %s: %w", path, err)
	}
	return nil
}
