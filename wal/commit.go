package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	tidwal "github.com/tidwall/wal"
)

// request is one Append waiting for its group commit.
type request struct {
	frame []byte // sealed by the committer
	index uint64 // set by the committer before done is closed
	err   error  // set by the committer before done is closed
	done  chan struct{}
}

func newRequest(data []byte) *request {
	return &request{frame: newFrame(data), done: make(chan struct{})}
}

// partition is one tidwall/wal directory and the goroutine that commits to
// it. Appends queue requests; the committer takes everything queued (up to
// the batch limits), writes it with one WriteBatch and one fsync, publishes
// the durable watermark and wakes the callers. Whatever arrives during an
// fsync forms the next batch, so there is no idle wait.
type partition struct {
	id   int
	dir  string
	opts Options
	used *atomic.Int64 // the Log's bytes on disk
	sync *syncGroup    // the Log's fsync rounds

	qmu   sync.Mutex // guards queue
	queue []*request
	wake  chan struct{} // capacity 1: "the queue is not empty"

	mu        sync.Mutex // guards the fields below; held for a commit or a retention step
	wl        *tidwal.Log
	last      uint64 // last index written and fsynced
	tailBytes int64  // size of the tail segment, mirroring tidwall/wal's rotation rule
	diskBytes int64  // bytes of all segments at open
	failed    error  // set by a failed write; the partition accepts nothing more
	synced    *syncedWriter
	batch     tidwal.Batch
	taken     []*request // committer-owned
}

func openPartition(dir string, id int, opts Options, used *atomic.Int64, group *syncGroup) (*partition, error) {
	p := &partition{id: id, dir: partitionDir(dir, id), opts: opts, used: used, sync: group, wake: make(chan struct{}, 1)}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	if err := repairTail(p.dir, id, tornWindow(opts), opts.Logger); err != nil {
		return nil, err
	}
	if err := p.openTidwall(); err != nil {
		return nil, err
	}
	sw, err := openSyncedWriter(p.dir)
	if err != nil {
		return nil, err
	}
	p.synced = sw
	if err := sw.publish(p.last); err != nil {
		return nil, err
	}
	return p, errors.Join(syncDir(p.dir), syncDir(dir))
}

// tornWindow bounds the bytes of the one batch that may be unsynced at a
// crash: MaxBatchBytes of frames plus their length prefixes, and a page of
// slack. (A single record larger than MaxBatchBytes forms a batch of its
// own; damage in it is reported rather than cut, the conservative choice.)
func tornWindow(o Options) int64 {
	return int64(o.MaxBatchBytes) + binary.MaxVarintLen32*int64(o.MaxBatchRecords) + pageSize
}

// openTidwall opens the partition's tidwall/wal log and reads its state.
func (p *partition) openTidwall() error {
	wl, err := tidwal.Open(p.dir, &tidwal.Options{
		NoSync:           true, // write fsyncs through the Log's syncGroup
		SegmentSize:      int(p.opts.SegmentSize),
		LogFormat:        tidwal.Binary,
		SegmentCacheSize: 1,
		NoCopy:           true,
		AllowEmpty:       true, // retention may leave only an empty tail segment
		DirPerms:         0o755,
		FilePerms:        0o644,
	})
	if err != nil {
		return fmt.Errorf("open segments: %w", err)
	}
	p.wl = wl
	if p.last, err = wl.LastIndex(); err != nil {
		return fmt.Errorf("last index: %w", err)
	}
	segs, err := listSegments(p.dir)
	if err != nil {
		return err
	}
	p.diskBytes, p.tailBytes = 0, segs[len(segs)-1].size
	for _, s := range segs {
		p.diskBytes += s.size
	}
	return nil
}

func (p *partition) enqueue(r *request) error {
	p.qmu.Lock()
	p.queue = append(p.queue, r)
	p.qmu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

// run commits batches until stop is closed and the queue is empty.
func (p *partition) run(stop <-chan struct{}, m *metrics) {
	for p.take(stop) {
		p.commit(m)
	}
}

// take moves the next batch from the queue to p.taken. It returns false once
// stop is closed and nothing is queued.
func (p *partition) take(stop <-chan struct{}) bool {
	for {
		p.qmu.Lock()
		if n := p.batchLen(); n > 0 {
			p.taken = append(p.taken[:0], p.queue[:n]...)
			rest := copy(p.queue, p.queue[n:])
			clear(p.queue[rest:])
			p.queue = p.queue[:rest]
			p.qmu.Unlock()
			return true
		}
		p.qmu.Unlock()
		select {
		case <-p.wake:
		case <-stop:
			p.qmu.Lock()
			empty := len(p.queue) == 0
			p.qmu.Unlock()
			if empty {
				return false
			}
		}
	}
}

// batchLen returns how many queued requests fit in one batch (at least one
// when the queue is not empty).
func (p *partition) batchLen() int {
	bytes := 0
	for i, r := range p.queue {
		bytes += len(r.frame)
		if i > 0 && (i >= p.opts.MaxBatchRecords || bytes > p.opts.MaxBatchBytes) {
			return i
		}
	}
	return len(p.queue)
}

// commit writes p.taken as one batch and completes its requests.
func (p *partition) commit(m *metrics) {
	p.mu.Lock()
	err := p.write(m)
	p.mu.Unlock()
	for _, r := range p.taken {
		r.err = err
		close(r.done)
	}
	clear(p.taken)
}

func (p *partition) write(m *metrics) error {
	if p.failed != nil {
		return p.failed
	}
	now := time.Now()
	p.batch.Clear()
	for i, r := range p.taken {
		r.index = p.last + uint64(i) + 1
		sealFrame(r.frame, r.index, now.UnixNano())
		p.batch.Write(r.index, r.frame)
	}
	if err := p.wl.WriteBatch(&p.batch); err != nil {
		return p.fail("write batch", err)
	}
	if !p.opts.NoSync {
		if err := p.sync.sync(p); err != nil {
			return p.fail("fsync", err)
		}
	}
	fsync := time.Since(now)
	written, rotated := p.account()
	if rotated {
		if err := syncDir(p.dir); err != nil {
			return p.fail("new segment", err)
		}
	}
	p.last += uint64(len(p.taken))
	p.used.Add(written)
	if err := p.synced.publish(p.last); err != nil {
		return p.fail("publish", err)
	}
	m.recordBatch(p.id, len(p.taken), written, fsync)
	return nil
}

// fail poisons the partition: after a failed write or fsync the state of the
// file is unknown, so nothing more is written until the log is reopened and
// its tail repaired.
func (p *partition) fail(what string, err error) error {
	p.failed = fmt.Errorf("wal: partition %d: %s: %w", p.id, what, err)
	p.opts.Logger.Error("wal: partition failed", "partition", p.id, "err", err)
	return p.failed
}

// account returns the bytes p.taken added to disk and whether tidwall/wal
// started a new segment file, by applying its rule: a new segment before the
// batch when the tail exceeds SegmentSize, and after any entry that brings
// the tail to SegmentSize.
func (p *partition) account() (written int64, rotated bool) {
	if p.tailBytes > p.opts.SegmentSize {
		rotated, p.tailBytes = true, 0
	}
	for _, r := range p.taken {
		n := int64(uvarintLen(uint64(len(r.frame))) + len(r.frame))
		written += n
		if p.tailBytes += n; p.tailBytes >= p.opts.SegmentSize {
			rotated, p.tailBytes = true, 0
		}
	}
	return written, rotated
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}

func (p *partition) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	if p.wl != nil {
		errs = append(errs, wrapErr("close segments", p.wl.Close()))
		p.wl = nil
	}
	if p.synced != nil {
		errs = append(errs, p.synced.close())
		p.synced = nil
	}
	return errors.Join(errs...)
}

// lastIndex returns the last durable index.
func (p *partition) lastIndex() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}
