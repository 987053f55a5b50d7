package wal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// metaVersion is the current on-disk format version of a log directory.
const metaVersion = 1

const metaFile = "meta.json"

// Meta describes a log directory; it is written once, when the log is
// created, to <dir>/meta.json.
type Meta struct {
	FormatVersion int       `json:"format_version"`
	Partitions    int       `json:"partitions"`
	CreatedAt     time.Time `json:"created_at"`
}

// ReadMeta reads <dir>/meta.json. It is safe to call from any process, with
// or without a writer. A missing log returns an error matching fs.ErrNotExist.
func ReadMeta(dir string) (Meta, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return Meta{}, fmt.Errorf("wal: read meta of %s: %w", dir, err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return Meta{}, fmt.Errorf("wal: parse meta of %s: %w", dir, err)
	}
	if m.FormatVersion != metaVersion {
		return Meta{}, fmt.Errorf("wal: %s: format version %d: %w", dir, m.FormatVersion, ErrUnsupportedVersion)
	}
	if m.Partitions < 1 {
		return Meta{}, fmt.Errorf("wal: %s: meta has %d partitions: %w", dir, m.Partitions, fs.ErrInvalid)
	}
	return m, nil
}

func writeMeta(dir string, m Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode meta: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, metaFile), append(b, '\n'), 0o644)
}

// loadOrCreateMeta returns the meta of dir, creating it for a new log with
// partitions (1 when 0). An existing log must have the requested count.
func loadOrCreateMeta(dir string, partitions int) (Meta, bool, error) {
	m, err := ReadMeta(dir)
	switch {
	case err == nil:
		if partitions != 0 && partitions != m.Partitions {
			return m, false, fmt.Errorf("wal: %s has %d partitions, options ask for %d: %w",
				dir, m.Partitions, partitions, ErrPartitionMismatch)
		}
		return m, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return m, false, err
	}
	if partitions == 0 {
		partitions = 1
	}
	return Meta{FormatVersion: metaVersion, Partitions: partitions, CreatedAt: time.Now().UTC()}, true, nil
}
