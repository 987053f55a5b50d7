package wal

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGroupsRespectBatchLimits queues records of varied sizes and checks the
// groups Enqueue forms: none holds more than MaxBatchRecords records or more
// than MaxBatchBytes of frames (a larger record gets a group of its own),
// the records keep their order, and each Pending's position points at its
// own frame. Repair's torn window relies on these limits.
func TestGroupsRespectBatchLimits(t *testing.T) {
	opts := Options{MaxBatchRecords: 7, MaxBatchBytes: 1000}.withDefaults()
	p := &partition{opts: opts, wake: make(chan struct{}, 1)}
	var frames [][]byte
	type pos struct {
		g *group
		n int
	}
	var got []pos
	for i := range 300 {
		size := i % 10 // small records: the record limit ends their groups
		if i%3 == 0 {
			size = (i * 37) % 400 // larger ones: the byte limit does
		}
		if i%50 == 0 {
			size = 1500 // more than MaxBatchBytes alone
		}
		f := newFrame(make([]byte, size))
		f[frameHeaderSize-1] = byte(i) // tell the frames apart
		frames = append(frames, f)
		g, n := p.enqueue(f)
		got = append(got, pos{g, n})
	}
	i, full, alone := 0, 0, 0
	for _, g := range p.queue {
		if len(g.frames) == opts.MaxBatchRecords {
			full++
		}
		if g.bytes > opts.MaxBatchBytes {
			alone++
		}
		require.NotEmpty(t, g.frames)
		require.LessOrEqual(t, len(g.frames), opts.MaxBatchRecords)
		if len(g.frames) > 1 {
			require.LessOrEqual(t, g.bytes, opts.MaxBatchBytes)
		}
		for n, f := range g.frames {
			require.Equal(t, frames[i][frameHeaderSize-1], f[frameHeaderSize-1], "record %d", i)
			require.Same(t, g, got[i].g)
			require.Equal(t, n, got[i].n)
			i++
		}
	}
	require.Equal(t, len(frames), i)
	require.NotZero(t, full, "some groups end at the record limit")
	require.Equal(t, 6, alone, "each record larger than MaxBatchBytes is a group of its own")
}
