package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/forwarder/internal/service"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/sinktest"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/status"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/wal"
)

// child is a forwarder process: this test binary re-executed.
type child struct {
	cmd  *exec.Cmd
	done chan error
}

func startChild(t *testing.T, f *fixture, out string, args ...string) *child {
	t.Helper()
	require.NoError(t, os.MkdirAll(out, 0o755))
	cmd := exec.Command(os.Args[0], append([]string{"-config", f.config}, args...)...)
	cmd.Env = append(os.Environ(), childOutDir+"="+out)
	logf, err := os.OpenFile(filepath.Join(f.dir, "children.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	defer logf.Close()
	cmd.Stderr, cmd.Stdout = logf, logf
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() { c.kill() })
	return c
}

// kill SIGKILLs the child and reaps it.
func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
	c.done <- nil // keep kill idempotent
}

// stop SIGTERMs the child and returns its exit code.
func (c *child) stop(t *testing.T) int {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("forwarder did not stop on SIGTERM")
	}
	c.done <- nil
	return c.cmd.ProcessState.ExitCode()
}

// readOutputs returns every line the FileSinks of sink wrote under out, the
// files of successive processes in the order they ran.
func readOutputs(t *testing.T, out, sink string) []sinktest.Line {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(out, sink+".*.out"))
	require.NoError(t, err)
	// Processes that ran one after another: the earlier one's file was last
	// written before the later one's.
	slices.SortFunc(files, func(a, b string) int { return modTime(t, a).Compare(modTime(t, b)) })
	var all []sinktest.Line
	for _, f := range files {
		lines, err := sinktest.ReadFile(f)
		require.NoError(t, err)
		all = append(all, lines...)
	}
	return all
}

func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.ModTime()
}

// requireAllDelivered checks that every WAL entry routed to the sink is in
// the output, and reports duplicates.
func requireAllDelivered(t *testing.T, lines []sinktest.Line, total int, routed func(i int) bool) {
	t.Helper()
	got := map[string]int{}
	for _, l := range lines {
		got[l.TxID]++
	}
	missing, dups := 0, 0
	for i := range total {
		n := got[string(testRecord(i, 37).GetTxid())]
		if routed(i) && n == 0 {
			missing++
		}
		dups += max(0, n-1)
	}
	require.Zero(t, missing, "records acked by the WAL but never delivered")
	t.Logf("%d records, %d delivered lines, %d duplicates", total, len(lines), dups)
}

// requireLastDeliveryInOrder checks that, keeping only the last delivery of
// each entry, every VIN's entries arrived in WAL order (one VIN lives in one
// partition).
func requireLastDeliveryInOrder(t *testing.T, lines []sinktest.Line) {
	t.Helper()
	type key struct {
		p int
		i uint64
	}
	last := map[key]int{}
	for n, l := range lines {
		last[key{l.Partition, l.Index}] = n
	}
	prev := map[string]uint64{}
	for n, l := range lines {
		if last[key{l.Partition, l.Index}] != n {
			continue
		}
		require.Greaterf(t, l.Index, prev[l.VIN], "VIN %s: entry %d finally delivered after %d", l.VIN, l.Index, prev[l.VIN])
		prev[l.VIN] = l.Index
	}
}

// requireCommittedDelivered checks that every routed entry at or below a
// partition's committed cursor is in the sink's output.
func requireCommittedDelivered(t *testing.T, f *fixture, sink string, lines []sinktest.Line) {
	t.Helper()
	got := map[[2]uint64]bool{}
	for _, l := range lines {
		got[[2]uint64{uint64(l.Partition), l.Index}] = true
	}
	for p := range f.partitions {
		c, err := wal.OpenCursor(f.walDir, sink, p)
		require.NoError(t, err)
		committed, err := c.Load()
		require.NoError(t, err)
		rd, err := wal.OpenReader(f.walDir, p, 0)
		require.NoError(t, err)
		for {
			e, err := rd.Next()
			if err != nil || e.Index > committed {
				break
			}
			var r walpb.Record
			require.NoError(t, proto.Unmarshal(e.Data, &r))
			require.Truef(t, r.GetTopic() != "V" || got[[2]uint64{uint64(p), e.Index}],
				"partition %d entry %d is committed but was never delivered", p, e.Index)
		}
		require.NoError(t, rd.Close())
	}
}

func (f *fixture) lastIndexes(t *testing.T) uint64 {
	t.Helper()
	var sum uint64
	for p := range f.partitions {
		st, err := wal.StatPartition(f.walDir, p)
		require.NoError(t, err)
		sum += st.LastIndex
	}
	return sum
}

func waitCommitted(t *testing.T, f *fixture, sink string, want uint64) {
	t.Helper()
	require.Eventually(t, func() bool { return f.committed(t, sink) == want }, 90*time.Second, 20*time.Millisecond,
		"committed %d of %d", f.committed(t, sink), want)
}

func TestSIGKILLMidBatchLosesNothing(t *testing.T) {
	f := newFixture(t, 4, map[string]any{"batch_max_records": 200})
	l := f.openWAL(t)
	const initial, more = 20_000, 5_000
	appendN(t.Context(), t, l, 0, initial)
	out := filepath.Join(f.dir, "out")

	var wg sync.WaitGroup
	wg.Go(func() { appendN(t.Context(), t, l, initial, more) }) // the gateway keeps writing
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		before := len(readOutputs(t, out, "kinesis"))
		c := startChild(t, f, out, "-sinks", "kinesis")
		// Kill while it delivers: once its first writes are confirmed.
		require.Eventually(t, func() bool { return len(readOutputs(t, out, "kinesis")) > before }, 30*time.Second, 2*time.Millisecond)
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		c.kill()
		requireCommittedDelivered(t, f, "kinesis", readOutputs(t, out, "kinesis"))
	}
	wg.Wait()
	c := startChild(t, f, out, "-sinks", "kinesis")
	waitCommitted(t, f, "kinesis", f.lastIndexes(t))
	require.Equal(t, exitOK, c.stop(t))

	routed := func(i int) bool { return i%10 != 0 } // kinesis gets V only
	lines := readOutputs(t, out, "kinesis")
	requireAllDelivered(t, lines, initial+more, routed)
	requireLastDeliveryInOrder(t, lines)
}

func TestTwoProcessesSplitPartitions(t *testing.T) {
	f := newFixture(t, 4, nil)
	l := f.openWAL(t)
	appendN(t.Context(), t, l, 0, 4000)
	out := filepath.Join(f.dir, "out")
	a := startChild(t, f, out, "-sinks", "logger")
	b := startChild(t, f, out, "-sinks", "logger")
	cfg := &config.Config{WAL: config.WALConfig{Dir: f.walDir}}

	owners := func() map[string]int {
		sts, err := status.ReadAll(service.StateDir(cfg, "logger"))
		require.NoError(t, err)
		m := map[string]int{}
		for _, s := range sts {
			m[s.Owner]++
		}
		return m
	}
	waitCommitted(t, f, "logger", f.lastIndexes(t))
	require.Eventually(t, func() bool {
		o := owners()
		return len(o) == 2 && slices.Equal(sortedCounts(o), []int{2, 2})
	}, 30*time.Second, 20*time.Millisecond, "owners %v", owners())

	a.kill() // its partitions must be taken over
	appendN(t.Context(), t, l, 4000, 2000)
	waitCommitted(t, f, "logger", f.lastIndexes(t))
	require.Equal(t, exitOK, b.stop(t))
	requireAllDelivered(t, readOutputs(t, out, "logger"), 6000, func(int) bool { return true })
}

func sortedCounts(m map[string]int) []int {
	var out []int
	for _, n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
