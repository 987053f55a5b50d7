package wal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Position is the place of an appended record: its partition and its index
// in that partition (indexes start at 1 and are contiguous).
type Position struct {
	Partition int
	Index     uint64
}

// Entry is one record read back from the log.
type Entry struct {
	Index      uint64
	AppendedAt time.Time
	// Data is the record. It aliases the reader's buffer and is valid until
	// the next call on the reader that returned it.
	Data []byte
}

// Log is the writer of a log directory. One Log per directory may exist
// across all processes (an OS lock enforces it). Its methods are safe for
// concurrent use.
//
// Lock order: Log.mu, then partition.qmu (enqueue); Log.retainMu, then
// partition.mu (retention reads a partition's last index); a committer holds
// only its partition.mu. No lock is held while waiting for a commit.
type Log struct {
	dir     string
	opts    Options
	log     *slog.Logger
	lock    *dirLock
	parts   []*partition
	syncs   *syncGroup
	metrics *metrics
	used    atomic.Int64 // bytes of all segment files

	mu     sync.RWMutex // guards closed against Append's enqueue
	closed bool

	retainMu sync.Mutex // serializes retention passes
	lag      lagTable
	stop     chan struct{}
	wg       sync.WaitGroup
}

// Open opens or creates the log in dir as its exclusive writer. It takes
// the directory lock (ErrLocked if another writer holds it), checks
// meta.json, repairs a torn tail in each partition (see FORMAT.md) and
// starts one committer per partition. A damaged entry that is not at the
// tail makes Open fail with a *CorruptionError.
func Open(dir string, opts Options) (*Log, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: create %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opts: opts, log: opts.Logger, lock: lock, syncs: newSyncGroup(opts.SyncDepth), stop: make(chan struct{})}
	if err := l.open(); err != nil {
		return nil, errors.Join(err, l.closeParts(), lock.unlock())
	}
	l.start()
	return l, nil
}

func (l *Log) open() error {
	meta, created, err := loadOrCreateMeta(l.dir, l.opts.Partitions)
	if err != nil {
		return err
	}
	for i := range meta.Partitions {
		p, err := openPartition(l.dir, i, l.opts, &l.used, l.syncs)
		if err != nil {
			return fmt.Errorf("wal: open partition %d of %s: %w", i, l.dir, err)
		}
		l.parts = append(l.parts, p)
		l.used.Add(p.diskBytes)
	}
	if created {
		if err := writeMeta(l.dir, meta); err != nil {
			return fmt.Errorf("wal: %w", err)
		}
	}
	l.metrics, err = newMetrics(l.opts.MeterProvider, l)
	return err
}

func (l *Log) start() {
	for _, p := range l.parts {
		l.wg.Go(func() { p.run(l.stop, l.metrics) })
	}
	l.wg.Go(l.retentionLoop)
}

// Partitions returns the number of partitions.
func (l *Log) Partitions() int { return len(l.parts) }

// Dir returns the log directory.
func (l *Log) Dir() string { return l.dir }

// MaxRecordSize is the largest record Append accepts.
const MaxRecordSize = maxEntrySize - frameHeaderSize

// Append writes a record to partition PartitionFor(key, Partitions()) and
// returns its position once the record is durable (fsynced, together with
// the records appended concurrently). data is copied; the caller may reuse
// it when Append returns. If ctx ends first, Append returns ctx.Err() and the
// record may or may not be in the log. At the disk budget it returns ErrFull
// (with the RejectNew policy); after Close, ErrClosed.
func (l *Log) Append(ctx context.Context, key, data []byte) (Position, error) {
	if err := ctx.Err(); err != nil {
		return Position{Partition: PartitionFor(key, len(l.parts))}, err
	}
	q, err := l.queue(key, data)
	if err != nil {
		return Position{Partition: PartitionFor(key, len(l.parts))}, err
	}
	return q.Wait(ctx) // q stays on Append's stack: no allocation
}

// Pending is a record queued by Enqueue and not yet known to be durable.
type Pending struct {
	partition int
	g         *group // the record's group commit
	n         int    // the record's position in g
}

// Enqueue queues data for the next group commit of key's partition and
// returns without waiting: records enqueued one after another by one
// goroutine get increasing indexes in that order, which Append called from
// several goroutines cannot promise. Wait on the result before treating the
// record as stored. Errors are those of Append (ErrFull, ErrTooLarge,
// ErrClosed).
func (l *Log) Enqueue(key, data []byte) (*Pending, error) {
	q, err := l.queue(key, data)
	if err != nil {
		return nil, err
	}
	return &q, nil
}

// FrameReserve is the room EnqueueOwned needs in front of a record: the
// frame header the log writes there when it commits the record.
const FrameReserve = frameHeaderSize

// EnqueueOwned is Enqueue for a record built in place, which saves Enqueue's
// copy: buf is FrameReserve bytes of room (whatever they hold) followed by
// the record. The log takes buf over: the caller must not use it again,
// whatever EnqueueOwned returns.
func (l *Log) EnqueueOwned(key, buf []byte) (*Pending, error) {
	if len(buf) < FrameReserve {
		return nil, fmt.Errorf("wal: EnqueueOwned: buffer of %d bytes has no room for the %d-byte frame header", len(buf), FrameReserve)
	}
	q, err := l.queueFrame(key, buf)
	if err != nil {
		return nil, err
	}
	return &q, nil
}

// queue is Enqueue, returning the Pending by value.
func (l *Log) queue(key, data []byte) (Pending, error) {
	if len(data) > MaxRecordSize {
		return Pending{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(data))
	}
	return l.queueFrame(key, newFrame(data))
}

// queueFrame queues frame, a record behind room for its header, for the
// next group commit of key's partition.
func (l *Log) queueFrame(key, frame []byte) (Pending, error) {
	p := l.parts[PartitionFor(key, len(l.parts))]
	if n := len(frame) - frameHeaderSize; n > MaxRecordSize {
		return Pending{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	size := int64(len(frame) + binary.MaxVarintLen32)
	if err := l.reserve(size); err != nil {
		return Pending{}, err
	}
	return l.enqueue(p, frame)
}

// Done returns a channel that is closed once the record's commit is over:
// Wait then returns at once, with the position or the commit's error.
func (q *Pending) Done() <-chan struct{} { return q.g.done }

// Wait blocks until the record is durable and returns its position, or
// returns the commit's error, or ctx's error if ctx ends first (the record
// may still be committed later).
func (q *Pending) Wait(ctx context.Context) (Position, error) {
	select {
	case <-q.g.done:
		if q.g.err != nil {
			return Position{Partition: q.partition}, q.g.err
		}
		return Position{Partition: q.partition, Index: q.g.first + uint64(q.n)}, nil
	case <-ctx.Done():
		return Position{Partition: q.partition}, ctx.Err()
	}
}

func (l *Log) enqueue(p *partition, frame []byte) (Pending, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return Pending{}, ErrClosed
	}
	g, n := p.enqueue(frame)
	return Pending{partition: p.id, g: g, n: n}, nil
}

// reserve checks the disk budget for size more bytes, deleting the oldest
// segments first under the DropOldest policy.
func (l *Log) reserve(size int64) error {
	budget := l.opts.DiskBudgetBytes
	if budget <= 0 || l.used.Load()+size <= budget {
		return nil
	}
	if l.opts.Overflow == DropOldest {
		l.dropOldest(budget - size)
		if l.used.Load()+size <= budget {
			return nil
		}
	}
	l.metrics.full.Add(context.Background(), 1)
	return fmt.Errorf("%w: %d of %d bytes used", ErrFull, l.used.Load(), budget)
}

// Close commits the records already queued, stops the committers and the
// retention pass, closes the files and releases the lock. Appends after
// Close fail with ErrClosed. Close is safe to call more than once.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	l.wg.Wait()
	l.retainMu.Lock() // no retention step runs once the lock is released
	defer l.retainMu.Unlock()
	return errors.Join(l.metrics.unregister(), l.closeParts(), l.lock.unlock())
}

func (l *Log) isClosed() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.closed
}

func (l *Log) closeParts() error {
	var errs []error
	for _, p := range l.parts {
		errs = append(errs, p.close())
	}
	return errors.Join(errs...)
}
