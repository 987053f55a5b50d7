package wal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

func (l *Log) retentionLoop() {
	t := time.NewTicker(l.opts.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if err := l.Retain(); err != nil {
				l.log.Error("wal: retention", "err", err)
			}
		}
	}
}

// Retain runs one retention pass now (the writer also runs one every
// RetentionInterval): in each partition it deletes the segments whose
// entries every consumer in Options.Consumers has committed, and refreshes
// the consumer lag metric. The tail segment is never deleted.
func (l *Log) Retain() error {
	l.retainMu.Lock()
	defer l.retainMu.Unlock()
	if l.isClosed() {
		return ErrClosed
	}
	var errs []error
	for _, p := range l.parts {
		low, err := l.lowestCursor(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := p.deleteThrough(low); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// lowestCursor returns the lowest committed position among the consumers
// in partition p (0 when there are none) and records each consumer's lag.
func (l *Log) lowestCursor(p *partition) (uint64, error) {
	if len(l.opts.Consumers) == 0 {
		return 0, nil
	}
	last := p.lastIndex()
	low := last
	for _, c := range l.opts.Consumers {
		v, err := readCursor(cursorPath(l.dir, c, p.id), p.id)
		if err != nil {
			return 0, fmt.Errorf("wal: consumer %s partition %d: %w", c, p.id, err)
		}
		if v > last {
			l.log.Error("wal: cursor beyond the last durable index", "consumer", c, "partition", p.id,
				"cursor", v, "last_index", last)
			v = last
		}
		l.lag.set(c, p.id, int64(last-v))
		low = min(low, v)
	}
	return low, nil
}

// deleteThrough deletes the segments of p that hold only entries <= index
// and returns them.
func (p *partition) deleteThrough(index uint64) ([]segmentFile, error) {
	segs, err := listSegments(p.dir)
	if err != nil {
		return nil, fmt.Errorf("wal: partition %d: %w", p.id, err)
	}
	n := 0
	for n < len(segs)-1 && segs[n+1].start-1 <= index {
		n++
	}
	if n == 0 {
		return nil, nil
	}
	return segs[:n], p.removeSegments(segs[:n])
}

// removeSegments deletes sealed segments. They are removed while the
// partition's committer keeps appending: it touches only its tail segment.
// Appends are not paused, and no kept file is rewritten, so tailers in
// other processes keep valid handles.
// The caller holds retainMu, which Close also takes, so nothing is deleted
// after the lock is released.
func (p *partition) removeSegments(victims []segmentFile) error {
	var freed int64
	var errs []error
	for _, v := range victims {
		if err := os.Remove(v.path); err != nil {
			errs = append(errs, fmt.Errorf("wal: partition %d: delete segment: %w", p.id, err))
			break
		}
		freed += v.size
	}
	p.used.Add(-freed)
	return errors.Join(append(errs, syncDir(p.dir))...)
}

// dropOldest deletes the oldest sealed segments, delivered or not, until the
// log uses at most target bytes or nothing more can be deleted. Every
// dropped record is counted and logged.
func (l *Log) dropOldest(target int64) {
	l.retainMu.Lock()
	defer l.retainMu.Unlock()
	for l.used.Load() > target && !l.isClosed() {
		p, segs := l.oldestSealed()
		if p == nil {
			return
		}
		if err := p.removeSegments(segs[:1]); err != nil {
			l.log.Error("wal: drop oldest", "partition", p.id, "err", err)
			return
		}
		dropped := segs[1].start - segs[0].start
		l.metrics.dropped.Add(context.Background(), int64(dropped), l.metrics.byPart[p.id])
		l.log.Warn("wal: disk budget reached, dropped undelivered records", "partition", p.id,
			"first_index", segs[0].start, "last_index", segs[1].start-1, "records", dropped)
	}
}

// oldestSealed returns the partition whose first sealed segment was written
// longest ago, with its segment list.
func (l *Log) oldestSealed() (*partition, []segmentFile) {
	var best *partition
	var bestSegs []segmentFile
	var bestTime time.Time
	for _, p := range l.parts {
		segs, err := listSegments(p.dir)
		if err != nil || len(segs) < 2 {
			continue
		}
		info, err := os.Stat(segs[0].path)
		if err != nil {
			continue
		}
		if best == nil || info.ModTime().Before(bestTime) {
			best, bestSegs, bestTime = p, segs, info.ModTime()
		}
	}
	return best, bestSegs
}
