package ownership_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/internal/ownership"
)

func TestTryLockIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p000.lock")
	a, ok, err := ownership.TryLock(path)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = ownership.TryLock(path)
	require.NoError(t, err)
	require.False(t, ok, "a second open file cannot take the lock")
	require.NoError(t, a.Unlock())
	b, ok, err := ownership.TryLock(path)
	require.NoError(t, err)
	require.True(t, ok, "free after unlock")
	require.NoError(t, b.Unlock())
}

func TestMembershipCountsLiveAndRemovesDead(t *testing.T) {
	dir := t.TempDir()
	a, err := ownership.Join(dir)
	require.NoError(t, err)
	b, err := ownership.Join(dir)
	require.NoError(t, err)
	require.NoError(t, b.Publish(7))
	others, err := a.Others()
	require.NoError(t, err)
	require.Equal(t, []int{7}, others)
	require.NoError(t, b.Publish(3))
	others, err = a.Others()
	require.NoError(t, err)
	require.Equal(t, []int{3}, others, "a smaller count overwrites a larger one")
	require.NoError(t, b.Leave())
	others, err = a.Others()
	require.NoError(t, err)
	require.Empty(t, others)
	require.NoError(t, a.Leave())
}

// tracker records which coordinator runs which partition and fails the test
// if two run the same one at once.
type tracker struct {
	t       *testing.T
	mu      sync.Mutex
	running map[int]string
}

func (tr *tracker) work(name string) ownership.Work {
	return func(ctx context.Context, p int) error {
		tr.mu.Lock()
		if other, busy := tr.running[p]; busy {
			tr.t.Errorf("partition %d run by %s and %s", p, other, name)
		}
		tr.running[p] = name
		tr.mu.Unlock()
		<-ctx.Done()
		tr.mu.Lock()
		delete(tr.running, p)
		tr.mu.Unlock()
		return nil
	}
}

func (tr *tracker) count(name string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, owner := range tr.running {
		if owner == name {
			n++
		}
	}
	return n
}

func startCoordinator(t *testing.T, dir string, partitions int, w ownership.Work) (*ownership.Coordinator, func()) {
	t.Helper()
	c, err := ownership.New(ownership.Config{Dir: dir, Partitions: partitions, Interval: 10 * time.Millisecond,
		RestartDelay: time.Millisecond, MaxRestartDelay: 10 * time.Millisecond}, w)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { require.NoError(t, c.Run(ctx)) })
	return c, func() { cancel(); wg.Wait() }
}

func TestCoordinatorsSplitPartitionsAndTakeOver(t *testing.T) {
	tests := []struct {
		name       string
		partitions int
		wantA      int
		wantB      int
	}{
		{name: "even", partitions: 6, wantA: 3, wantB: 3},
		{name: "odd", partitions: 5, wantA: 3, wantB: 2},
		{name: "one", partitions: 1, wantA: 1, wantB: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tr := &tracker{t: t, running: map[int]string{}}
			a, stopA := startCoordinator(t, dir, tt.partitions, tr.work("a"))
			require.Eventually(t, func() bool { return len(a.Owned()) == tt.partitions }, 5*time.Second, 5*time.Millisecond)

			b, stopB := startCoordinator(t, dir, tt.partitions, tr.work("b"))
			require.Eventually(t, func() bool {
				owned := append(a.Owned(), b.Owned()...)
				slices.Sort(owned)
				return len(a.Owned()) == tt.wantA && len(b.Owned()) == tt.wantB && len(slices.Compact(owned)) == tt.partitions
			}, 5*time.Second, 5*time.Millisecond, "a=%v b=%v", a.Owned(), b.Owned())

			stopA()
			require.Eventually(t, func() bool { return tr.count("b") == tt.partitions }, 5*time.Second, 5*time.Millisecond)
			stopB()
			require.Zero(t, tr.count("b"), "stopping joins every worker")
		})
	}
}

func TestFailedWorkIsRestarted(t *testing.T) {
	var mu sync.Mutex
	runs := 0
	_, stop := startCoordinator(t, t.TempDir(), 1, func(ctx context.Context, _ int) error {
		mu.Lock()
		defer mu.Unlock()
		runs++
		if runs < 3 {
			return context.DeadlineExceeded
		}
		return nil
	})
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return runs >= 3 }, 5*time.Second, time.Millisecond)
	stop()
}

func TestOnReleaseRunsAfterWorkReturns(t *testing.T) {
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	c, err := ownership.New(ownership.Config{Dir: t.TempDir(), Partitions: 2, Interval: 10 * time.Millisecond,
		RestartDelay: time.Millisecond, MaxRestartDelay: time.Millisecond,
		OnRelease: func(int) { record("released") }},
		func(ctx context.Context, p int) error {
			record("started")
			<-ctx.Done()
			record("returned")
			return nil
		})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { require.NoError(t, c.Run(ctx)) })
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) == 2
	}, 5*time.Second, time.Millisecond, "both workers started")
	cancel()
	wg.Wait()
	require.Len(t, events, 6)
	require.Equal(t, []string{"started", "started"}, events[:2])
	require.ElementsMatch(t, []string{"returned", "returned", "released", "released"}, events[2:])
	require.Equal(t, "returned", events[2], "a partition is released only after its worker returned")
	require.Empty(t, c.Owned())
}

func TestThreeCoordinatorsSplitFourPartitionsTwoOneOne(t *testing.T) {
	dir := t.TempDir()
	tr := &tracker{t: t, running: map[int]string{}}
	var cs []*ownership.Coordinator
	for _, name := range []string{"a", "b", "c"} {
		c, stop := startCoordinator(t, dir, 4, tr.work(name))
		t.Cleanup(stop)
		cs = append(cs, c)
	}
	require.Eventually(t, func() bool {
		var counts []int
		total := 0
		for _, c := range cs {
			counts = append(counts, len(c.Owned()))
			total += len(c.Owned())
		}
		slices.Sort(counts)
		return total == 4 && slices.Equal(counts, []int{1, 1, 2})
	}, 10*time.Second, 5*time.Millisecond)
}
