package wal

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// segmentLayout reads a segment and returns the end of its entries and
// whether only zeros follow them.
func segmentLayout(t *testing.T, seg segmentFile) (entriesEnd int64, zerosAfter int64) {
	t.Helper()
	data, err := os.ReadFile(seg.path)
	require.NoError(t, err)
	r := scanSegment(data, seg.start)
	require.True(t, allZero(data[r.valid:]), "%s: bytes after the entries at %d are not zeros", seg.path, r.valid)
	return r.valid, int64(len(data)) - r.valid
}

// diskBytes sums the sizes of the segment files of every partition.
func diskBytes(t *testing.T, dir string, partitions int) int64 {
	t.Helper()
	var sum int64
	for p := range partitions {
		segs, err := listSegments(partitionDir(dir, p))
		require.NoError(t, err)
		for _, s := range segs {
			sum += s.size
		}
	}
	return sum
}

// TestPreallocatedTailLayout checks the invariants of preallocation while
// batches rotate segments, several at a time: the tail segment holds its
// entries then zeros, every sealed segment ends exactly at its last entry,
// the log's byte count matches the files, and Close cuts the zeros.
func TestPreallocatedTailLayout(t *testing.T) {
	const segSize = 8 << 10
	dir := t.TempDir()
	l, err := Open(dir, Options{SegmentSize: segSize, Preallocate: 4 << 10, NoSync: true})
	require.NoError(t, err)
	var next int
	for round := range 40 {
		// Batches from one record to ~30 KiB, which rotate up to four
		// segments in one write.
		var pend []*Pending
		for range 1 + round%4*30 {
			q, err := l.Enqueue(nil, fmt.Appendf(nil, "rec-%d-%0250d", next+1, next+1))
			require.NoError(t, err)
			pend = append(pend, q)
			next++
		}
		for _, q := range pend {
			_, err := q.Wait(t.Context())
			require.NoError(t, err)
		}
		segs, err := listSegments(partitionDir(dir, 0))
		require.NoError(t, err)
		for i, s := range segs {
			end, zeros := segmentLayout(t, s)
			if i < len(segs)-1 {
				require.Zero(t, zeros, "sealed segment %s holds zeros", s.path)
				require.Equal(t, s.size, end)
			} else {
				require.Equal(t, l.parts[0].tailBytes, end)
			}
		}
		require.Equal(t, diskBytes(t, dir, 1), l.used.Load(), "bytes on disk after round %d", round)
	}
	segs, err := listSegments(partitionDir(dir, 0))
	require.NoError(t, err)
	require.Greater(t, len(segs), 10)
	_, zeros := segmentLayout(t, segs[len(segs)-1])
	require.Positive(t, zeros, "a live tail keeps zeros written ahead")
	res, err := VerifyPartition(dir, 0)
	require.NoError(t, err)
	require.Equal(t, zeros, res.Zeros)
	require.Zero(t, res.TornTail)

	require.NoError(t, l.Close())
	_, zeros = segmentLayout(t, lastSegment(t, dir))
	require.Zero(t, zeros, "Close cuts the zeros")
	got := readAll(t, dir, 0)
	require.Len(t, got, next)
	for i, e := range got {
		require.Equal(t, fmt.Sprintf("rec-%d-%0250d", i+1, i+1), string(e.Data))
	}
}

// TestPreallocateOff keeps segment files at the length of their entries.
func TestPreallocateOff(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{Preallocate: -1, NoSync: true})
	appendN(t, l, 10)
	_, zeros := segmentLayout(t, lastSegment(t, dir))
	require.Zero(t, zeros)
}

// TestPreallocationWithinBudget counts the zeros against the disk budget
// and writes none past it.
func TestPreallocationWithinBudget(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{DiskBudgetBytes: 64 << 10, Preallocate: 1 << 20, NoSync: true})
	_, err := l.Append(t.Context(), nil, []byte("x"))
	require.NoError(t, err)
	_, zeros := segmentLayout(t, lastSegment(t, dir))
	require.Zero(t, zeros, "1 MiB of zeros does not fit a 64 KiB budget")

	dir = t.TempDir()
	l = openTest(t, dir, Options{DiskBudgetBytes: 64 << 10, Preallocate: 16 << 10, NoSync: true})
	var err2 error
	for range 1000 {
		if _, err2 = l.Append(t.Context(), nil, make([]byte, 200)); err2 != nil {
			break
		}
		require.Equal(t, diskBytes(t, dir, 1), l.used.Load())
	}
	require.ErrorIs(t, err2, ErrFull)
	require.LessOrEqual(t, diskBytes(t, dir, 1), int64(64<<10)+16<<10/2,
		"zeros may reach the budget, records admitted before it only their own size past it")
}

// TestTailerReadsPreallocatedTail follows a writer one commit at a time, in
// this process and through a Reader, while the bytes after the durable
// entries are zeros that later commits overwrite: no zero is ever taken for
// an entry or for damage.
func TestTailerReadsPreallocatedTail(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{SegmentSize: 16 << 10})
	tl, err := OpenTailer(dir, 0, 0, TailerOptions{PollInterval: time.Millisecond})
	require.NoError(t, err)
	defer func() { require.NoError(t, tl.Close()) }()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for i := 1; i <= 400; i++ {
		data := fmt.Appendf(nil, "rec-%d-%0*d", i, i%300, 0)
		pos, err := l.Append(ctx, nil, data)
		require.NoError(t, err)
		require.Equal(t, uint64(i), pos.Index)
		if i%7 == 0 {
			_, zeros := segmentLayout(t, lastSegment(t, dir))
			require.Positive(t, zeros, "the tail is preallocated")
		}
		e, err := tl.Next(ctx)
		require.NoError(t, err)
		require.Equal(t, pos.Index, e.Index)
		require.Equal(t, string(data), string(e.Data))
	}
	segs, err := listSegments(partitionDir(dir, 0))
	require.NoError(t, err)
	require.Greater(t, len(segs), 2, "the tailer followed rotations")
	require.Len(t, readAll(t, dir, 0), 400)
}

// TestRetentionWithPreallocatedTail deletes every sealed segment while the
// tail is preallocated and appends continue: the tail is never rewritten,
// the byte count stays true, a tailer keeps going and a reopen finds every
// retained record.
func TestRetentionWithPreallocatedTail(t *testing.T) {
	dir := t.TempDir()
	opts := retentionOpts("sink")
	opts.SegmentSize = 16 << 10
	l := openTest(t, dir, opts)
	tl, err := OpenTailer(dir, 0, 0, TailerOptions{PollInterval: time.Millisecond})
	require.NoError(t, err)
	defer func() { require.NoError(t, tl.Close()) }()
	var seen uint64
	for round := range 5 {
		appendN(t, l, 150)
		for seen < l.parts[0].lastIndex() {
			e, err := tl.Next(t.Context())
			require.NoError(t, err)
			require.Equal(t, seen+1, e.Index)
			seen++
		}
		commit(t, dir, "sink", seen)
		require.NoError(t, l.Retain())
		segs, err := listSegments(partitionDir(dir, 0))
		require.NoError(t, err)
		require.Len(t, segs, 1, "round %d: only the tail is left", round)
		_, zeros := segmentLayout(t, segs[0])
		require.Positive(t, zeros)
		require.Equal(t, diskBytes(t, dir, 1), l.used.Load())
	}
	require.NoError(t, l.Close())
	segs, err := listSegments(partitionDir(dir, 0))
	require.NoError(t, err)
	r, err := OpenReader(dir, 0, segs[0].start-1)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	for want := segs[0].start; want <= seen; want++ {
		e, err := r.Next()
		require.NoError(t, err)
		require.Equal(t, want, e.Index)
	}
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF)
}

// TestLostPageBeforePreallocatedZeros is TestLostPageInLastBatch with the
// zeros a preallocating writer leaves after its last batch, more of them
// than the window of the unsynced batch: the lost page is still recognised
// and cut, not reported as damage.
func TestLostPageBeforePreallocatedZeros(t *testing.T) {
	dir := t.TempDir()
	opts := Options{NoSync: true, MaxBatchBytes: 8 << 10, MaxBatchRecords: 64}
	l, err := Open(dir, opts)
	require.NoError(t, err)
	for i := 1; i <= 100; i++ {
		_, err := l.Append(t.Context(), nil, fmt.Appendf(nil, "rec-%d-%0200d", i, i))
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	seg := lastSegment(t, dir)
	offs := entryOffsets(t, seg.path)
	end := offs[len(offs)-1]
	lost := (end - 2*pageSize) / pageSize * pageSize
	mutateFile(t, seg.path, func(b []byte) []byte {
		clear(b[lost : lost+pageSize])
		return append(b, make([]byte, 256<<10)...)
	})
	kept := 0
	for kept+1 < len(offs) && offs[kept+1] <= lost {
		kept++
	}
	require.Less(t, kept, 99)
	l, err = Open(dir, opts)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.Equal(t, 1, brokenCopies(t, dir))
	require.Len(t, readAll(t, dir, 0), kept)
}

// TestKillWithPreallocatedTail SIGKILLs appending children while their
// tail segments hold zeros written ahead. Before each reopen it checks
// that zeros were there; after it, every acknowledged record is intact at
// its position, every entry is a record some child appended (no zeros read
// as entries), the zeros are gone and new appends work.
func TestKillWithPreallocatedTail(t *testing.T) {
	dir := t.TempDir()
	acked := map[Position]string{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	sawZeros := 0
	for cycle := range 8 {
		c := startChild(t, "append", dir, "k"+strconv.Itoa(cycle))
		first := c.firstLine(t)
		time.Sleep(time.Duration(5+rng.IntN(30)) * time.Millisecond)
		c.kill()
		for _, line := range append([]string{first}, drain(c.lines)...) {
			a := parseAck(t, line)
			acked[a.pos] = a.id
		}
		for p := range crashPartitions {
			data, err := os.ReadFile(tailSegmentOf(t, dir, p).path)
			require.NoError(t, err)
			if nonZeroLen(data) < int64(len(data)) {
				sawZeros++
			}
		}
		verifyAcked(t, dir, acked)
		for p := range crashPartitions {
			seg := tailSegmentOf(t, dir, p)
			_, zeros := segmentLayout(t, seg)
			require.Zero(t, zeros, "Open cut the zeros of partition %d", p)
			for _, e := range readAll(t, dir, p) {
				id, _, ok := cutRecordID(e.Data)
				require.True(t, ok, "partition %d index %d is not a record: %q", p, e.Index, e.Data)
				require.Equal(t, string(crashRecord(id)), string(e.Data))
			}
		}
	}
	require.Positive(t, sawZeros, "no child was killed with a preallocated tail")
	l, err := Open(dir, Options{})
	require.NoError(t, err)
	pos, err := l.Append(t.Context(), []byte("after"), crashRecord("after"))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	acked[pos] = "after"
	verifyAcked(t, dir, acked)
}

// cutRecordID returns the id at the start of a crashRecord.
func cutRecordID(data []byte) (id string, rest []byte, ok bool) {
	for i, c := range data {
		if c == '|' {
			return string(data[:i]), data[i+1:], i > 0
		}
	}
	return "", nil, false
}

func tailSegmentOf(t *testing.T, dir string, partition int) segmentFile {
	t.Helper()
	segs, err := listSegments(partitionDir(dir, partition))
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	return segs[len(segs)-1]
}
