package wal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	crashPartitions = 4
	crashSegment    = 64 << 10
	crashWorkers    = 16
)

// crashRecord is the deterministic content of record id: the id, then
// filler derived from it, 300 bytes in all.
func crashRecord(id string) []byte {
	b := make([]byte, 0, 300)
	b = append(b, id...)
	b = append(b, '|')
	for len(b) < 300 {
		b = append(b, 'a'+byte(len(b)*7+len(id))%26)
	}
	return b
}

// childAppend appends from many goroutines until killed and prints
// "<partition> <index> <id>" after each Append returns.
func childAppend(dir, arg string) error { return childAppendDepth(dir, arg, 1) }

// childAppendDepth is childAppend with Options.SyncDepth depth.
func childAppendDepth(dir, arg string, depth int) error {
	l, err := Open(dir, Options{Partitions: crashPartitions, SegmentSize: crashSegment, SyncDepth: depth})
	if err != nil {
		return err
	}
	var out lineWriter
	var wg sync.WaitGroup
	for w := range crashWorkers {
		wg.Go(func() {
			for seq := 0; ; seq++ {
				id := fmt.Sprintf("%s-w%02d-%d", arg, w, seq)
				pos, err := l.Append(context.Background(), []byte(id), crashRecord(id))
				if err != nil {
					out.printf("error %v\n", err)
					return
				}
				out.printf("%d %d %s\n", pos.Partition, pos.Index, id)
			}
		})
	}
	wg.Wait()
	return l.Close()
}

type crashAck struct {
	pos Position
	id  string
}

func parseAck(t *testing.T, line string) crashAck {
	t.Helper()
	f := strings.Fields(line)
	require.Len(t, f, 3, "child reported %q", line)
	p, err := strconv.Atoi(f[0])
	require.NoError(t, err)
	idx, err := strconv.ParseUint(f[1], 10, 64)
	require.NoError(t, err)
	return crashAck{pos: Position{Partition: p, Index: idx}, id: f[2]}
}

// TestCrashRecovery SIGKILLs an appending child at random moments; every
// other time it also damages what a machine crash could damage (see
// losePower). After each kill every acknowledged record must be readable,
// intact and at its acknowledged position, and the log must accept appends
// again.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	acked := map[Position]string{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for cycle := range *crashCycles {
		mode := "append"
		if cycle%2 == 1 {
			mode = "append-depth2" // two group commits synced at once
		}
		c := startChild(t, mode, dir, "c"+strconv.Itoa(cycle))
		first := c.firstLine(t)
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		c.kill()
		for _, line := range append([]string{first}, drain(c.lines)...) {
			a := parseAck(t, line)
			acked[a.pos] = a.id
		}
		if cycle%2 == 1 {
			for p := range crashPartitions {
				losePower(t, partitionDir(dir, p), rng)
			}
		}
		verifyAcked(t, dir, acked)
	}
	l, err := Open(dir, Options{})
	require.NoError(t, err)
	pos, err := l.Append(t.Context(), []byte("after"), crashRecord("after"))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	acked[pos] = "after"
	verifyAcked(t, dir, acked)
	broken, err := filepath.Glob(filepath.Join(dir, "p*", "*.broken"))
	require.NoError(t, err)
	t.Logf("%d cycles, %d acknowledged records verified, %d torn tails cut", *crashCycles, len(acked), len(broken))
}

func drain(ch <-chan string) []string {
	var out []string
	for l := range ch {
		out = append(out, l)
	}
	return out
}

// verifyAcked reads every partition and checks each acknowledged record.
// Reading runs the same recovery a writer would: it opens the log first.
func verifyAcked(t *testing.T, dir string, acked map[Position]string) {
	t.Helper()
	l, err := Open(dir, Options{})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	found := 0
	for p := range crashPartitions {
		for _, e := range readAll(t, dir, p) {
			id, ok := acked[Position{Partition: p, Index: e.Index}]
			if !ok {
				continue
			}
			require.Equal(t, string(crashRecord(id)), string(e.Data), "partition %d index %d", p, e.Index)
			found++
		}
	}
	require.Equal(t, len(acked), found, "acknowledged records missing")
}

// losePower damages a partition's tail the way a machine crash can: only
// bytes after the last entry the writer published as fsynced (every
// acknowledged record is at or below it). It cuts the tail short, zeroes a
// page of it, or appends zeros.
func losePower(t *testing.T, pdir string, rng *rand.Rand) {
	t.Helper()
	w, err := newSyncedReader(pdir).load()
	require.NoError(t, err)
	segs, err := listSegments(pdir)
	require.NoError(t, err)
	last := segs[len(segs)-1]
	data, err := os.ReadFile(last.path)
	require.NoError(t, err)
	durable := durableEnd(data, last.start, w.index)
	switch rng.IntN(3) {
	case 0:
		data = data[:durable+rng.IntN(len(data)-durable+1)]
	case 1:
		if start := (durable + pageSize - 1) / pageSize * pageSize; start < len(data) {
			clear(data[start:min(start+pageSize, len(data))])
		}
	default:
		data = append(data, make([]byte, 1+rng.IntN(2*pageSize))...)
	}
	require.NoError(t, os.WriteFile(last.path, data, 0o644))
}

// durableEnd returns the offset just after entry durable in a segment that
// starts at index start (0 when the segment starts after it).
func durableEnd(data []byte, start, durable uint64) int {
	off := 0
	for idx := start; idx <= durable && off < len(data); idx++ {
		_, size, st := nextEntry(data[off:])
		if st != entryOK {
			break
		}
		off += size
	}
	return off
}
