package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/fleetrelay/fleetrelay/wal"
)

// errDamaged is returned by verify when any partition or cursor is damaged.
var errDamaged = errors.New("damage found")

func runVerify(args []string, stdout io.Writer) error {
	fs, dir := newFlags("verify")
	if err := parse(fs, dir, args); err != nil {
		return err
	}
	meta, err := wal.ReadMeta(*dir)
	if err != nil {
		return err
	}
	damaged := false
	for p := range meta.Partitions {
		res, err := wal.VerifyPartition(*dir, p)
		if err != nil {
			if !errors.Is(err, wal.ErrCorrupt) {
				return err
			}
			damaged = true
			fmt.Fprintf(stdout, "partition %d: DAMAGED: %v\n", p, err)
			continue
		}
		fmt.Fprintf(stdout, "partition %d: ok, %d entries in %d segments", p, res.Entries, res.Segments)
		if res.TornTail > 0 {
			fmt.Fprintf(stdout, ", torn tail of %d bytes (cut by the next writer open)", res.TornTail)
		}
		if res.Zeros > 0 {
			fmt.Fprintf(stdout, ", %d bytes of zeros written ahead after the last entry", res.Zeros)
		}
		fmt.Fprintln(stdout)
	}
	if bad, err := verifyCursors(stdout, *dir, meta.Partitions); err != nil || bad {
		return errors.Join(err, errDamaged)
	}
	if damaged {
		return errDamaged
	}
	return nil
}

func verifyCursors(stdout io.Writer, dir string, partitions int) (bool, error) {
	consumers, err := wal.Consumers(dir)
	if err != nil {
		return false, err
	}
	bad := false
	for _, c := range consumers {
		for p := range partitions {
			if _, err := wal.LoadCursor(dir, c, p); err != nil {
				bad = true
				fmt.Fprintf(stdout, "cursor %s partition %d: DAMAGED: %v\n", c, p, err)
			}
		}
	}
	return bad, nil
}
