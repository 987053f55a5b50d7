package sinktest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// FileSink is a durable datastore.Sink for crash tests: Write appends one
// line "<partition> <index> <vin> <txid>" per record to a file and fsyncs
// before it returns, so whatever it confirmed survives the process being
// killed. A kill mid-Write may leave a partial last line, which ReadFile
// ignores (that batch was never confirmed).
type FileSink struct {
	name string
	mu   sync.Mutex
	f    *os.File
}

// OpenFileSink opens (creating) path for appending.
func OpenFileSink(name, path string) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sinktest: open %s: %w", path, err)
	}
	return &FileSink{name: name, f: f}, nil
}

// Name implements datastore.Sink.
func (s *FileSink) Name() string { return s.name }

// Write implements datastore.Sink.
func (s *FileSink) Write(_ context.Context, batch []datastore.Record) error {
	var b strings.Builder
	for _, r := range batch {
		fmt.Fprintf(&b, "%d %d %s %s\n", r.Partition, r.Index, r.WAL.GetVin(), r.WAL.GetTxid())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("sinktest: append: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sinktest: sync: %w", err)
	}
	return nil
}

// Close implements datastore.Sink.
func (s *FileSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// Line is one record as a FileSink wrote it.
type Line struct {
	Partition int
	Index     uint64
	VIN       string
	TxID      string
}

// ReadFile returns the complete lines of a FileSink's file, in order.
func ReadFile(path string) ([]Line, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sinktest: open %s: %w", path, err)
	}
	defer f.Close()
	var out []Line
	r := bufio.NewReader(f)
	for {
		s, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) { // a last line without '\n' is a torn write
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sinktest: read %s: %w", path, err)
		}
		l, perr := parseLine(strings.TrimSuffix(s, "\n"))
		if perr != nil {
			return nil, perr
		}
		out = append(out, l)
	}
}

func parseLine(s string) (Line, error) {
	f := strings.Fields(s)
	if len(f) != 4 {
		return Line{}, fmt.Errorf("sinktest: bad line %q", s)
	}
	p, err1 := strconv.Atoi(f[0])
	i, err2 := strconv.ParseUint(f[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return Line{}, fmt.Errorf("sinktest: bad line %q: %w", s, err)
	}
	return Line{Partition: p, Index: i, VIN: f[2], TxID: f[3]}, nil
}
