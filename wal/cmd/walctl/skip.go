package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/fleetrelay/fleetrelay/wal"
)

// runSkip moves one consumer's cursor past a damaged entry
// (wal.SkipCorruptEntry), holding the consumer's delivery lock for the
// partition so that no forwarder delivers it meanwhile.
func runSkip(args []string, stdout io.Writer) error {
	fs, dir := newFlags("skip")
	consumer := fs.String("consumer", "", "consumer (sink) whose cursor moves (required)")
	partition := fs.Int("partition", -1, "partition (required)")
	index := fs.Uint64("index", 0, "index of the damaged entry (required)")
	if err := parse(fs, dir, args); err != nil {
		return err
	}
	if *consumer == "" || *partition < 0 || *index == 0 {
		return fmt.Errorf("%w: -consumer, -partition and -index are required", errUsage)
	}
	meta, err := wal.ReadMeta(*dir)
	if err != nil {
		return err
	}
	if *partition >= meta.Partitions {
		return fmt.Errorf("%w: partition %d of %d", errUsage, *partition, meta.Partitions)
	}
	unlock, err := lockDelivery(*dir, *consumer, *partition)
	if err != nil {
		return err
	}
	defer unlock()
	ce, err := wal.SkipCorruptEntry(*dir, *consumer, *partition, *index)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "partition %d: consumer %s skipped entry %d (%v in %s at offset %d); its cursor is at %d\n",
		*partition, *consumer, ce.Index, errors.Unwrap(ce), ce.Segment, ce.Offset, ce.Index)
	return nil
}

// lockDelivery takes the flock a forwarder holds while it delivers
// partition for consumer, its ownership lock
// <dir>/forwarder/<consumer>/p<NNN>.lock, failing if one holds it.
func lockDelivery(dir, consumer string, partition int) (unlock func(), err error) {
	path := filepath.Join(dir, "forwarder", consumer, fmt.Sprintf("p%03d.lock", partition))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("delivery lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("delivery lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		_ = f.Close() // nothing written
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("a forwarder is delivering partition %d for %s (%s is locked): stop it first", partition, consumer, path)
		}
		return nil, fmt.Errorf("delivery lock %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil // closing releases the lock
}
