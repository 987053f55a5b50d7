package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/fleetrelay/fleetrelay/forwarder/internal/deadletter"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/ownership"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/service"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/status"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/wal"
)

// partitionReport is one row of `forwarder status`.
type partitionReport struct {
	Sink      string `json:"sink"`
	Partition int    `json:"partition"`
	// Running is true when a live process holds the partition's lock.
	Running     bool   `json:"running"`
	Owner       string `json:"owner,omitempty"`
	Cursor      uint64 `json:"cursor"`
	LastIndex   uint64 `json:"last_index"`
	LagRecords  uint64 `json:"lag_records"`
	LagBytes    int64  `json:"lag_bytes"`
	OldestAgeMs int64  `json:"oldest_undelivered_age_ms"`
	DeadLetters uint64 `json:"dead_letters"`
	Replayed    uint64 `json:"dead_letters_replayed"`
	LastError   string `json:"last_error,omitempty"`
	LastErrorAt string `json:"last_error_at,omitempty"`
	Stopped     string `json:"stopped,omitempty"`
}

// runStatus is `forwarder status`: per sink and partition, the cursor, the
// lag and the last error. It fails (exit 1) when a partition has stopped.
func runStatus(args []string, e env) error {
	fs := newFlagSet("status", e.stderr)
	path := fs.String("config", "config.json", "configuration file")
	sink := fs.String("sink", "", "only this sink (default: every sink under records)")
	asJSON := fs.Bool("json", false, "print JSON lines instead of a table")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, e.stderr)
	if err != nil {
		return err
	}
	sinks := service.RoutedSinks(cfg)
	if *sink != "" {
		if err := oneSink(cfg, *sink); err != nil {
			return err
		}
		sinks = []string{*sink}
	}
	reports, err := collectStatus(cfg, sinks)
	if err != nil {
		return err
	}
	if err := printStatus(e.stdout, reports, *asJSON); err != nil {
		return err
	}
	return stoppedError(reports)
}

func collectStatus(cfg *config.Config, sinks []string) ([]partitionReport, error) {
	meta, err := wal.ReadMeta(cfg.WAL.Dir)
	if err != nil {
		return nil, fmt.Errorf("wal.dir: %w", err)
	}
	var out []partitionReport
	for _, s := range sinks {
		for p := range meta.Partitions {
			r, err := partitionStatus(cfg, s, p)
			if err != nil {
				return nil, fmt.Errorf("%s partition %d: %w", s, p, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func partitionStatus(cfg *config.Config, sink string, p int) (partitionReport, error) {
	r := partitionReport{Sink: sink, Partition: p}
	cur, err := wal.OpenCursor(cfg.WAL.Dir, sink, p)
	if err != nil {
		return r, err
	}
	if r.Cursor, err = cur.Load(); err != nil {
		return r, err
	}
	if err := r.lag(cfg.WAL.Dir); err != nil {
		return r, err
	}
	if r.Running, err = lockHeld(service.StateDir(cfg, sink), p); err != nil {
		return r, err
	}
	if err := r.deadLetters(service.DeadLetterDir(cfg, sink)); err != nil {
		return r, err
	}
	return r, r.fromFile(service.StateDir(cfg, sink))
}

// lag measures the undelivered entries after the cursor: count, bytes and
// the age of the oldest. It reads them (not their payload's meaning), so it
// costs a scan of the backlog.
func (r *partitionReport) lag(dir string) error {
	st, err := wal.StatPartition(dir, r.Partition)
	if err != nil {
		return err
	}
	r.LastIndex = st.LastIndex
	if st.LastIndex <= r.Cursor {
		return nil
	}
	after := max(r.Cursor, st.FirstIndex-1)
	r.LagRecords = st.LastIndex - after
	rd, err := wal.OpenReader(dir, r.Partition, after)
	if err != nil {
		return err
	}
	defer rd.Close()
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.OldestAgeMs == 0 {
			r.OldestAgeMs = max(1, time.Since(e.AppendedAt).Milliseconds())
		}
		r.LagBytes += int64(len(e.Data))
	}
}

// lockHeld reports whether a process holds the partition's ownership lock.
// Probing takes the lock for an instant when it is free.
func lockHeld(stateDir string, p int) (bool, error) {
	path := filepath.Join(stateDir, fmt.Sprintf("p%03d.lock", p))
	l, ok, err := ownership.TryLock(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil || !ok {
		return !ok && err == nil, err
	}
	return false, l.Unlock()
}

func (r *partitionReport) deadLetters(dir string) error {
	err := deadletter.Read(dir, r.Partition, 0, func(deadletter.Numbered) error {
		r.DeadLetters++
		return nil
	})
	if err != nil {
		return err
	}
	r.Replayed, err = deadletter.Replayed(dir, r.Partition)
	return err
}

func (r *partitionReport) fromFile(stateDir string) error {
	st, err := status.Read(stateDir, r.Partition)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	r.Owner, r.LastError, r.Stopped = st.Owner, st.LastError, st.Stopped
	if !st.LastErrorAt.IsZero() {
		r.LastErrorAt = st.LastErrorAt.UTC().Format(time.RFC3339)
	}
	if !r.Running {
		r.Stopped = "" // the stop belonged to a process that is gone
	}
	return nil
}

func printStatus(w io.Writer, reports []partitionReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range reports {
			if err := enc.Encode(r); err != nil {
				return fmt.Errorf("write status: %w", err)
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SINK\tPART\tRUNNING\tOWNER\tCURSOR\tLAST\tLAG\tLAG_BYTES\tOLDEST\tDEAD(REPLAYED)\tLAST_ERROR")
	for _, r := range reports {
		fmt.Fprintf(tw, "%s\t%d\t%t\t%s\t%d\t%d\t%d\t%d\t%s\t%d(%d)\t%s\n", r.Sink, r.Partition, r.Running, dash(r.Owner),
			r.Cursor, r.LastIndex, r.LagRecords, r.LagBytes, ageString(r.OldestAgeMs), r.DeadLetters, r.Replayed, errorCell(r))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ageString(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return (time.Duration(ms) * time.Millisecond).Round(time.Millisecond).String()
}

func errorCell(r partitionReport) string {
	switch {
	case r.Stopped != "":
		return "STOPPED: " + r.Stopped
	case r.LastError != "":
		return r.LastErrorAt + " " + r.LastError
	}
	return "-"
}

func stoppedError(reports []partitionReport) error {
	n := 0
	for _, r := range reports {
		if r.Stopped != "" {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%w: delivery has stopped on %d partitions", errFailed, n)
	}
	return nil
}
