package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	tidwal "github.com/tidwall/wal"
)

// group is the records of one group commit. Enqueue adds records to the
// partition's open group until it reaches the batch limits; the committer
// takes the oldest group whole, so a group is one batch, and once taken it
// never changes. Its callers all wait on one channel, closed once for the
// batch rather than once per record.
type group struct {
	frames [][]byte // sealed by the committer
	bytes  int      // of frames
	first  uint64   // index of frames[0]; set by the committer before done is closed
	err    error    // set by the committer before done is closed
	done   chan struct{}
}

// fits reports whether a frame of n bytes may join g within the batch
// limits. An empty group takes any frame.
func (g *group) fits(n int, o *Options) bool {
	return len(g.frames) == 0 || len(g.frames) < o.MaxBatchRecords && g.bytes+n <= o.MaxBatchBytes
}

// partition is one segment directory and the goroutines that commit to it.
// Appends add records to the open group; the committer takes the oldest
// group, writes it with one pwrite(2) and starts its fdatasync; the
// completer waits for the fdatasyncs in batch order, publishes the durable
// watermark and wakes the callers (at SyncDepth 1 the committer does all of
// this itself, with no hand-off between goroutines). Whatever arrives
// while a batch is being written or synced forms the next batch, so there is
// no idle wait, and up to Options.SyncDepth batches are synced at once: the
// next batch does not wait for the previous one's fdatasync to return.
type partition struct {
	id   int
	dir  string
	opts Options
	used *atomic.Int64 // the Log's bytes on disk
	sync *syncGroup    // the Log's fsync rounds

	qmu   sync.Mutex    // guards queue and open
	queue []*group      // groups not yet taken, oldest first
	open  *group        // the last of queue, which records may still join; nil if none
	hint  int           // records in the last group taken, to size the next
	wake  chan struct{} // capacity 1: "the queue is not empty"

	// slots holds a token for every batch written and not yet completed,
	// at most Options.SyncDepth: the committer takes one before it writes a
	// batch, the completer returns it.
	slots chan struct{}

	mu        sync.Mutex // guards the fields below; held to write a batch, to complete one, or for a retention step
	last      uint64     // last index fsynced and published
	written   uint64     // last index written; committer-owned
	tailBytes int64      // bytes of entries in the tail segment
	tail      *tailFile  // the tail segment, written and synced through this handle
	diskBytes int64      // bytes of all segments at open
	failed    error      // set by a failed write; the partition accepts nothing more
	synced    *syncedWriter
	buf       []byte // the batch's entries, encoded; reused
}

// inflight is a written batch on its way to the completer.
type inflight struct {
	g       *group
	size    int64 // bytes of g's entries in a segment
	start   time.Time
	st      batchStat
	rotated bool          // the batch started a new segment file
	err     error         // the write's or the sync's; set before synced is closed
	synced  chan struct{} // closed once the batch is durable or has failed
}

func openPartition(dir string, id int, opts Options, used *atomic.Int64, group *syncGroup) (*partition, error) {
	p := &partition{id: id, dir: partitionDir(dir, id), opts: opts, used: used, sync: group,
		wake: make(chan struct{}, 1), slots: make(chan struct{}, opts.SyncDepth)}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	segs, err := listSegments(p.dir)
	if err != nil {
		return nil, err
	}
	if err := checkSealed(segs, id); err != nil {
		return nil, err
	}
	if err := repairTail(p.dir, id, tornWindow(opts), opts.Logger); err != nil {
		return nil, err
	}
	if err := p.openSegments(); err != nil {
		return nil, err
	}
	sw, err := openSyncedWriter(p.dir, p.last)
	if err != nil {
		return nil, err
	}
	p.synced = sw
	return p, errors.Join(syncDir(p.dir), syncDir(dir))
}

// tornWindow bounds the bytes that may be unsynced at a crash: SyncDepth
// batches of MaxBatchBytes of frames plus their length prefixes, and a page
// of slack. (A single record larger than MaxBatchBytes forms a batch of its
// own; damage in it is reported rather than cut, the conservative choice.)
func tornWindow(o Options) int64 {
	batch := int64(o.MaxBatchBytes) + binary.MaxVarintLen32*int64(o.MaxBatchRecords)
	return int64(max(o.SyncDepth, 1))*batch + pageSize
}

// openSegments reads the state of the partition's segment files, after
// repairTail has cut any torn tail. tidwall/wal opens the directory first:
// it creates the first segment of an empty partition, parses the whole tail
// segment (refusing one that is not a sequence of complete entries) and
// gives the last index. It is closed again before the first write, because
// the committer appends to the tail segment itself (see write).
func (p *partition) openSegments() error {
	last, err := tidwallLastIndex(p.dir, p.opts.SegmentSize)
	if err != nil {
		return err
	}
	segs, err := listSegments(p.dir)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		return fmt.Errorf("open segments: no segment file in %s", p.dir)
	}
	tail := segs[len(segs)-1]
	p.last, p.written = last, last
	p.diskBytes, p.tailBytes = 0, tail.size
	for _, s := range segs {
		p.diskBytes += s.size
	}
	p.tail, err = openTailFile(tail.path)
	return err
}

// tidwallLastIndex opens the segment directory with tidwall/wal, which
// validates the tail segment's entries, and returns its last index.
func tidwallLastIndex(dir string, segmentSize int64) (uint64, error) {
	wl, err := tidwal.Open(dir, &tidwal.Options{
		NoSync:           true, // the committer fsyncs; Open writes nothing durable
		SegmentSize:      int(segmentSize),
		LogFormat:        tidwal.Binary,
		SegmentCacheSize: 1,
		NoCopy:           true,
		AllowEmpty:       true, // retention may leave only an empty tail segment
		DirPerms:         0o755,
		FilePerms:        0o644,
	})
	if err != nil {
		return 0, fmt.Errorf("open segments: %w", err)
	}
	last, err := wl.LastIndex()
	if err != nil {
		err = fmt.Errorf("last index: %w", err)
	}
	return last, errors.Join(err, wrapErr("close segments", wl.Close()))
}

// enqueue adds frame to the open group, starting a new one when it is full,
// and returns the group and the frame's position in it.
func (p *partition) enqueue(frame []byte) (*group, int) {
	p.qmu.Lock()
	g := p.open
	if g == nil || !g.fits(len(frame), &p.opts) {
		g = &group{frames: make([][]byte, 0, max(p.hint, 8)), done: make(chan struct{})}
		p.queue = append(p.queue, g)
		p.open = g
	}
	n := len(g.frames)
	g.frames = append(g.frames, frame)
	g.bytes += len(frame)
	p.qmu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return g, n
}

// run commits batches until stop is closed and the queue is empty: the
// committer writes them and starts their fdatasyncs, the completer finishes
// them in order. At SyncDepth 1 there is nothing to overlap, and the
// committer finishes each batch itself.
func (p *partition) run(stop <-chan struct{}, m *metrics) {
	if cap(p.slots) == 1 {
		for g := p.take(stop); g != nil; g = p.take(stop) {
			p.finish(p.commit(g), m)
		}
		return
	}
	written := make(chan *inflight, cap(p.slots))
	var wg sync.WaitGroup
	wg.Go(func() {
		for b := range written {
			p.finish(b, m)
		}
	})
	for g := p.take(stop); g != nil; g = p.take(stop) {
		written <- p.commit(g)
	}
	close(written)
	wg.Wait()
}

// take removes the oldest group from the queue; no record joins it any
// more. It returns nil once stop is closed and nothing is queued.
func (p *partition) take(stop <-chan struct{}) *group {
	for {
		p.qmu.Lock()
		if len(p.queue) > 0 {
			g := p.queue[0]
			rest := copy(p.queue, p.queue[1:])
			p.queue[rest] = nil
			p.queue = p.queue[:rest]
			if g == p.open {
				p.open = nil
			}
			p.hint = len(g.frames)
			p.qmu.Unlock()
			return g
		}
		p.qmu.Unlock()
		select {
		case <-p.wake:
		case <-stop:
			p.qmu.Lock()
			empty := len(p.queue) == 0
			p.qmu.Unlock()
			if empty {
				return nil
			}
		}
	}
}

// commit writes g as one batch and starts its fdatasync. It waits
// first for a free slot, so at most SyncDepth batches are unsynced at any
// moment (the torn window repair allows for), and, before a batch that
// starts a new segment file, for every batch in flight, so the tail handle
// the fdatasyncs use changes only while none runs.
func (p *partition) commit(g *group) *inflight {
	b := &inflight{g: g, size: p.size(g.frames), synced: make(chan struct{})}
	p.slots <- struct{}{}
	p.mu.Lock()
	if p.failed == nil && p.rotates(b.size) {
		p.mu.Unlock()
		p.drain()
		p.mu.Lock()
	}
	b.start = time.Now()
	b.err = p.write(b)
	p.mu.Unlock()
	switch {
	case b.err != nil || p.opts.NoSync:
		close(b.synced)
	case cap(p.slots) == 1:
		p.syncBatch(b) // nothing to overlap: no goroutine hand-off
	default:
		go p.syncBatch(b)
	}
	return b
}

// drain waits until the completer has finished every batch in flight but
// the caller's own slot.
func (p *partition) drain() {
	for range cap(p.slots) - 1 {
		p.slots <- struct{}{}
	}
	for range cap(p.slots) - 1 {
		<-p.slots
	}
}

// syncBatch makes b durable: an fdatasync of the tail segment (joining the
// Log's sync rounds) and, for a batch that started a segment file, an fsync
// of the directory.
func (p *partition) syncBatch(b *inflight) {
	defer close(b.synced)
	if err := p.sync.sync(p); err != nil {
		b.err = fmt.Errorf("fsync: %w", err)
		return
	}
	if b.rotated {
		if err := syncDir(p.dir); err != nil {
			b.err = fmt.Errorf("new segment: %w", err)
			return
		}
	}
	b.st.commit = time.Since(b.start)
}

// finish completes the batches in the order they were written: it waits
// for b's fdatasync, publishes the durable watermark, frees b's slot and
// wakes its callers. A batch that failed poisons the partition, and every
// batch after it fails with the same error, whatever its own fdatasync
// returned, so the watermark never passes a gap.
func (p *partition) finish(b *inflight, m *metrics) {
	<-b.synced
	p.mu.Lock()
	switch {
	case p.failed != nil:
		b.err = p.failed
	case b.err != nil:
		b.err = p.fail("commit", b.err)
	default:
		p.last += uint64(len(b.g.frames))
		if err := p.synced.publish(p.last); err != nil {
			b.err = p.fail("publish", err)
		}
	}
	p.mu.Unlock()
	<-p.slots
	if b.err == nil {
		// Before the callers wake, so that the counters include every
		// record an Append has returned.
		m.recordBatch(p.id, b.st.records, b.st.bytes, b.st.commit)
	}
	b.g.err = b.err
	close(b.g.done)
}

// size returns the bytes frames take in a segment.
func (p *partition) size(frames [][]byte) int64 {
	var size int64
	for _, f := range frames {
		size += int64(uvarintLen(uint64(len(f))) + len(f))
	}
	return size
}

// write seals b's frames and writes them to the tail segment, encoded as
// tidwall/wal binary entries (uvarint length, then the frame), with one
// pwrite(2) per segment the batch touches. It starts a new segment file
// where tidwall/wal would (see rotate), and keeps the zeros ahead topped up.
// Nothing is synced but a segment that is sealed.
func (p *partition) write(b *inflight) error {
	if p.failed != nil {
		return p.failed
	}
	zerosBefore := p.tail.excess(p.tailBytes)
	if p.rotates(b.size) {
		// The batch seals the tail: no zeros may stay in it. Its fsync
		// before the next segment is created makes the cut durable.
		if err := p.tail.cut(p.tailBytes); err != nil {
			return p.fail("seal segment", err)
		}
	}
	var written int64
	rotated := false
	if p.tailBytes > p.opts.SegmentSize {
		// A tail longer than SegmentSize (the option was lowered) is
		// sealed before the batch.
		if err := p.rotate(p.written + 1); err != nil {
			return p.fail("new segment", err)
		}
		rotated = true
	}
	at := b.start.UnixNano()
	buf := p.buf[:0]
	b.g.first = p.written + 1
	for i, f := range b.g.frames {
		index := b.g.first + uint64(i)
		sealFrame(f, index, at)
		buf = binary.AppendUvarint(buf, uint64(len(f)))
		buf = append(buf, f...)
		if p.tailBytes+int64(len(buf)) < p.opts.SegmentSize {
			continue
		}
		// This entry fills the segment: write what the segment gets,
		// seal it and go on in a new one starting at the next index.
		if err := p.tail.write(buf, p.tailBytes); err != nil {
			return p.fail("write batch", err)
		}
		written += int64(len(buf))
		p.tailBytes += int64(len(buf))
		buf = buf[:0]
		if err := p.rotate(index + 1); err != nil {
			return p.fail("new segment", err)
		}
		rotated = true
	}
	if len(buf) > 0 {
		if err := p.tail.write(buf, p.tailBytes); err != nil {
			return p.fail("write batch", err)
		}
		written += int64(len(buf))
		p.tailBytes += int64(len(buf))
	}
	if cap(buf) <= maxKeptBuf {
		p.buf = buf[:0]
	} else {
		p.buf = nil
	}
	if err := p.preallocate(); err != nil {
		return p.fail("preallocate", err)
	}
	p.written += uint64(len(b.g.frames))
	p.used.Add(written + p.tail.excess(p.tailBytes) - zerosBefore)
	b.rotated = rotated
	b.st = batchStat{records: len(b.g.frames), bytes: written}
	return nil
}

// maxKeptBuf is the largest encoding buffer the committer keeps between
// batches.
const maxKeptBuf = 1 << 20

// rotate seals the tail segment and starts the next one, whose first index
// is next, the way tidwall/wal cycles a segment: fsync(2) the old file, close
// it, create the new one. So a reader that finds a segment knows the one
// before it is complete. The directory is fsynced with the batch
// (syncBatch), before any Append of it returns.
func (p *partition) rotate(next uint64) error {
	if err := p.tail.fsync(); err != nil {
		return err
	}
	err := p.tail.close()
	p.tail = nil
	if err != nil {
		return err
	}
	p.tail, err = createTailFile(filepath.Join(p.dir, segmentName(next)))
	if err == nil {
		p.tailBytes = 0
	}
	return err
}

// batchStat is what a commit reports to the metrics.
type batchStat struct {
	records int
	bytes   int64
	commit  time.Duration
}

// fail poisons the partition: after a failed write or fsync the state of the
// file is unknown, so nothing more is written until the log is reopened and
// its tail repaired.
func (p *partition) fail(what string, err error) error {
	p.failed = fmt.Errorf("wal: partition %d: %s: %w", p.id, what, err)
	p.opts.Logger.Error("wal: partition failed", "partition", p.id, "err", err)
	return p.failed
}

// rotates reports whether writing size more bytes of entries starts a new
// segment: tidwall/wal's rule, which write applies, is a new segment before
// the batch when the tail exceeds SegmentSize, and after any entry that
// brings the tail to SegmentSize.
func (p *partition) rotates(size int64) bool {
	return p.tailBytes > p.opts.SegmentSize || p.tailBytes+size >= p.opts.SegmentSize
}

// preallocate keeps zeros written ahead of the end of the tail segment's
// entries (Options.Preallocate, up to SegmentSize), topping them up once
// less than half is left, within the disk budget. They are synced with the
// commit that writes them.
func (p *partition) preallocate() error {
	ahead := min(p.opts.Preallocate, p.opts.SegmentSize)
	if ahead <= 0 {
		return nil
	}
	to := min(p.tailBytes+ahead, p.opts.SegmentSize)
	grow := to - max(p.tail.end, p.tailBytes)
	if grow < ahead/2 {
		return nil
	}
	if b := p.opts.DiskBudgetBytes; b > 0 && p.used.Load()+grow > b {
		return nil
	}
	return p.tail.extend(p.tailBytes, to)
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}

func (p *partition) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	if p.tail != nil {
		if p.failed == nil {
			errs = append(errs, p.tail.cut(p.tailBytes), p.tail.fsync())
		} else {
			errs = append(errs, p.failed) // its tail is repaired at the next Open
		}
		errs = append(errs, p.tail.close())
		p.tail = nil
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
