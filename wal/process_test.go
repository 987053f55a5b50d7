package wal

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSecondWriterLocked(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Options{NoSync: true})

	t.Run("same_process", func(t *testing.T) {
		_, err := Open(dir, Options{NoSync: true})
		require.ErrorIs(t, err, ErrLocked)
		require.Contains(t, err.Error(), dir)
		require.Contains(t, err.Error(), fmt.Sprintf("pid=%d", pidSelf()))
	})
	t.Run("other_process", func(t *testing.T) {
		c := startChild(t, "lock", dir, "")
		line := c.firstLine(t)
		require.NoError(t, c.wait())
		require.True(t, strings.HasPrefix(line, "locked:"), line)
	})
	require.NoError(t, l.Close())
	t.Run("released_on_close", func(t *testing.T) {
		c := startChild(t, "lock", dir, "")
		require.Equal(t, "opened", c.firstLine(t))
		require.NoError(t, c.wait())
	})
}

func TestLockReleasedWhenHolderKilled(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "hold", dir, "")
	line := c.firstLine(t)
	_, err := Open(dir, Options{NoSync: true})
	require.ErrorIs(t, err, ErrLocked)
	require.Contains(t, err.Error(), "pid="+strings.TrimPrefix(line, "holding "))
	c.kill()
	l, err := Open(dir, Options{NoSync: true})
	require.NoError(t, err)
	require.NoError(t, l.Close())
}

// TestCursorSurvivesKill SIGKILLs a child that commits in a loop: the cursor
// must then hold the last reported commit or the one in flight, never a torn
// or older value.
func TestCursorSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	for range 10 {
		c := startChild(t, "cursor", dir, "")
		first := c.firstLine(t)
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		c.kill()
		lines := append([]string{first}, drain(c.lines)...)
		last, err := strconv.ParseUint(lines[len(lines)-1], 10, 64)
		require.NoError(t, err)
		cur, err := OpenCursor(dir, "sink", 0)
		require.NoError(t, err)
		got, err := cur.Load()
		require.NoError(t, err)
		require.True(t, got == last || got == last+1, "cursor %d after last reported commit %d", got, last)
	}
}

// TestTailerInOtherProcess runs a Tailer in a child process while this
// process appends, rotates small segments and deletes the segments the
// child has committed past: the child must see every entry exactly once,
// in order, with the acknowledged content.
func TestTailerInOtherProcess(t *testing.T) {
	const count = 3000
	dir := t.TempDir()
	l := openTest(t, dir, Options{SegmentSize: 4 << 10, NoSync: true, Consumers: []string{"tail"},
		RetentionInterval: 5 * time.Millisecond})
	c := startChild(t, "tail", dir, strconv.Itoa(count))
	want := make([]string, count+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < count; i += 4 {
				data := fmt.Sprintf("rec-%d", i)
				pos, err := l.Append(t.Context(), nil, []byte(data))
				require.NoError(t, err)
				mu.Lock()
				want[pos.Index] = data
				mu.Unlock()
			}
		})
	}
	got := make([]string, 0, count)
	for line := range c.lines {
		got = append(got, line)
	}
	require.NoError(t, c.wait())
	wg.Wait()
	require.Len(t, got, count)
	for i, line := range got {
		f := strings.Fields(line)
		require.Equal(t, strconv.Itoa(i+1), f[0], "entries out of order or repeated")
		require.Equal(t, want[i+1], f[3])
	}
	require.NoError(t, l.Retain())
	st, err := StatPartition(dir, 0)
	require.NoError(t, err)
	require.Greater(t, st.FirstIndex, uint64(count/2), "retention should have deleted the front")
}
