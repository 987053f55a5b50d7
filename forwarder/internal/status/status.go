package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Partition is the state of one (sink, partition) delivery loop as its owner
// last reported it.
type Partition struct {
	Sink      string `json:"sink"`
	Partition int    `json:"partition"`
	// Owner identifies the process delivering the partition ("host:pid").
	Owner string `json:"owner"`
	// Cursor is the last committed WAL index: every entry up to it has been
	// delivered, skipped or dead-lettered.
	Cursor uint64 `json:"cursor"`
	// ReadIndex is the last WAL index the reader has taken from the log.
	ReadIndex uint64 `json:"read_index"`
	// Delivered, Retried and DeadLettered count records since the owner
	// started delivering this partition.
	Delivered    uint64 `json:"delivered"`
	Retried      uint64 `json:"retried"`
	DeadLettered uint64 `json:"dead_lettered"`
	// LastError is the most recent delivery or read error; LastErrorAt its
	// time. An error stays shown after recovery, with its time.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Stopped is set when delivery of the partition has stopped on an error
	// it cannot get past (for example a corrupt WAL entry).
	Stopped string `json:"stopped,omitempty"`
	// UpdatedAt is when the owner wrote this file.
	UpdatedAt time.Time `json:"updated_at"`
}

const suffix = ".status.json"

// Path returns the status file of one partition under dir (the sink's
// forwarder state directory).
func Path(dir string, partition int) string {
	return filepath.Join(dir, strconv.Itoa(partition)+suffix)
}

// Write atomically replaces the status file of p.Partition under dir. It does
// not fsync: a status file lost in a crash is rewritten by the next owner.
func Write(dir string, p Partition) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	path := Path(dir, p.Partition)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write status %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename status %s: %w", path, err)
	}
	return nil
}

// Read returns the status of one partition. A partition never delivered has
// no file: the error matches fs.ErrNotExist.
func Read(dir string, partition int) (Partition, error) {
	b, err := os.ReadFile(Path(dir, partition))
	if err != nil {
		return Partition{}, fmt.Errorf("read status: %w", err)
	}
	var p Partition
	if err := json.Unmarshal(b, &p); err != nil {
		return Partition{}, fmt.Errorf("parse status %s: %w", Path(dir, partition), err)
	}
	return p, nil
}

// ReadAll returns every partition status found under dir, by partition. A
// missing dir yields none.
func ReadAll(dir string) ([]Partition, error) {
	names, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list status dir: %w", err)
	}
	var out []Partition
	for _, e := range names {
		n, ok := strings.CutSuffix(e.Name(), suffix)
		part, convErr := strconv.Atoi(n)
		if !ok || convErr != nil {
			continue
		}
		p, err := Read(dir, part)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Partition) int { return a.Partition - b.Partition })
	return out, nil
}
