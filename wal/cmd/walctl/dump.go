package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fleetrelay/fleetrelay/wal"
)

// dumpRange selects the entries to print.
type dumpRange struct {
	partition    int
	from, to     uint64
	since, until time.Time
}

// dumpLine is one printed entry; Data is encoded as base64 by encoding/json.
type dumpLine struct {
	Partition  int       `json:"partition"`
	Index      uint64    `json:"index"`
	AppendedAt time.Time `json:"appended_at"`
	Size       int       `json:"size"`
	Data       []byte    `json:"data"`
}

func runDump(args []string, stdout io.Writer) error {
	fs, dir := newFlags("dump")
	r := dumpRange{}
	var since, until string
	fs.IntVar(&r.partition, "partition", -1, "partition to dump (default: all)")
	fs.Uint64Var(&r.from, "from", 0, "first index to print")
	fs.Uint64Var(&r.to, "to", 0, "last index to print (default: the last durable one)")
	fs.StringVar(&since, "since", "", "print entries appended at or after this RFC 3339 time")
	fs.StringVar(&until, "until", "", "print entries appended before this RFC 3339 time")
	if err := parse(fs, dir, args); err != nil {
		return err
	}
	if err := r.parseTimes(since, until); err != nil {
		return err
	}
	meta, err := wal.ReadMeta(*dir)
	if err != nil {
		return err
	}
	if r.partition >= meta.Partitions {
		return fmt.Errorf("%w: -partition %d, the log has %d", errUsage, r.partition, meta.Partitions)
	}
	out := bufio.NewWriter(stdout)
	for p := range meta.Partitions {
		if r.partition < 0 || r.partition == p {
			if err := dumpPartition(out, *dir, p, r); err != nil {
				return errors.Join(err, out.Flush())
			}
		}
	}
	return out.Flush()
}

func (r *dumpRange) parseTimes(since, until string) error {
	var err error
	if since != "" {
		if r.since, err = time.Parse(time.RFC3339Nano, since); err != nil {
			return fmt.Errorf("%w: -since: %w", errUsage, err)
		}
	}
	if until != "" {
		if r.until, err = time.Parse(time.RFC3339Nano, until); err != nil {
			return fmt.Errorf("%w: -until: %w", errUsage, err)
		}
	}
	if r.to != 0 && r.from > r.to {
		return fmt.Errorf("%w: -from %d is after -to %d", errUsage, r.from, r.to)
	}
	return nil
}

func (r *dumpRange) includes(e wal.Entry) bool {
	return (r.since.IsZero() || !e.AppendedAt.Before(r.since)) && (r.until.IsZero() || e.AppendedAt.Before(r.until))
}

func dumpPartition(out io.Writer, dir string, p int, r dumpRange) error {
	rd, err := wal.OpenReader(dir, p, max(r.from, 1)-1)
	if err != nil {
		return err
	}
	defer func() { _ = rd.Close() }()
	enc := json.NewEncoder(out)
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) || (err == nil && r.to != 0 && e.Index > r.to) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.includes(e) {
			line := dumpLine{Partition: p, Index: e.Index, AppendedAt: e.AppendedAt.UTC(), Size: len(e.Data), Data: e.Data}
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
	}
}
