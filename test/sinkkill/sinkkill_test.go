package sinkkill

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sizes returns how many records a test appends before the forwarders
// start and while they run. The race detector slows every process several
// times, so it gets fewer.
func sizes() (initial, more int) {
	if raceEnabled {
		return 6000, 4000
	}
	return 16000, 8000
}

// kills is how many times TestSIGKILLMidDelivery kills a forwarder.
const kills = 4

// TestSIGKILLMidDelivery SIGKILLs the forwarder of each sink while it
// delivers, restarts it each time, lets the last one finish and then checks
// that the datastore holds every WAL record, the last delivery of each in
// WAL order per VIN.
func TestSIGKILLMidDelivery(t *testing.T) {
	for _, s := range sinks {
		t.Run(s.name, func(t *testing.T) {
			forwarderBinary(t) // built before the clock matters
			ds := s.start(t)
			f := newFixture(t, ds)
			initial, more := sizes()
			require.NoError(t, f.appendRecords(t.Context(), 0, initial, 0, nil))

			// The gateway keeps writing while forwarders die, so that a
			// fast sink still has records to deliver at every kill.
			var wg sync.WaitGroup
			var appendErr error
			var appending atomic.Bool
			appending.Store(true)
			stopAppending := make(chan struct{})
			wg.Go(func() {
				defer appending.Store(false)
				appendErr = f.appendRecords(t.Context(), initial, more, 100*time.Millisecond, stopAppending)
			})

			seed := uint64(time.Now().UnixNano())
			rng := rand.New(rand.NewPCG(seed, 5))
			midDelivery := 0
			for k := range kills {
				before, _ := f.progress()
				start := time.Now()
				c := f.startForwarder()
				// Kill while it delivers: after its first commit, at a
				// random moment within the next batches.
				if !waitCommitted(t, f, c, before, appending.Load) {
					c.kill()
					t.Logf("kill %d: forwarder %d had delivered everything before it could be killed", k+1, c.pid())
					break
				}
				firstCommit := time.Since(start)
				time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
				c.kill()
				after, last := f.progress()
				if after < last {
					midDelivery++
				}
				t.Logf("kill %d: forwarder %d (first commit after %s, killed after %s) committed %d → %d of %d WAL entries",
					k+1, c.pid(), firstCommit.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), before, after, last)
			}
			close(stopAppending)
			wg.Wait()
			require.NoError(t, appendErr)
			c := f.startForwarder()
			f.waitOwnedBy(c)
			f.waitCaughtUp(c)
			require.Equal(t, 0, c.stop(t), "exit code after SIGTERM")
			require.Positivef(t, midDelivery, "no SIGKILL hit a forwarder with records left to deliver (seed %d)", seed)

			requireDelivered(t, f, ds.read(t, f, f.appended()))
		})
	}
}

// TestTwoProcessesSplitPartitions runs two forwarders of each sink at once:
// they must split the WAL partitions two and two and deliver every record;
// when one is SIGKILLed the other takes its partitions over.
func TestTwoProcessesSplitPartitions(t *testing.T) {
	for _, s := range sinks {
		t.Run(s.name, func(t *testing.T) {
			forwarderBinary(t)
			t0 := time.Now()
			phase := func(what string) { t.Logf("%s after %s", what, time.Since(t0).Round(time.Millisecond)) }
			ds := s.start(t)
			f := newFixture(t, ds)
			phase("datastore up")
			a, b := f.startForwarder(), f.startForwarder()

			split := f.waitOwners(fmt.Sprintf("a 2+2 split between %d and %d", a.pid(), b.pid()), func(o map[int][]int) bool {
				return len(o) == 2 && len(o[a.pid()]) == 2 && len(o[b.pid()]) == 2
			}, a, b)

			phase("split")
			// Records arrive while both run: each delivers its partitions.
			initial, more := sizes()
			require.NoError(t, f.appendRecords(t.Context(), 0, initial, 10*time.Millisecond, nil))
			f.waitCaughtUp(a, b)
			require.Equal(t, split, owners(f.status()), "partitions moved while both processes ran")
			requirePartitionsUsed(t, f)
			phase("delivered by two")

			a.kill()
			require.NoError(t, f.appendRecords(t.Context(), initial, more, 0, nil))
			f.waitOwners(fmt.Sprintf("%d taking over the partitions of %d", b.pid(), a.pid()), func(o map[int][]int) bool {
				return len(o) == 1 && len(o[b.pid()]) == walPartitions
			}, b)
			phase("taken over")
			f.waitCaughtUp(b)
			require.Equal(t, 0, b.stop(t), "exit code after SIGTERM")
			phase("stopped")

			requireDelivered(t, f, ds.read(t, f, f.appended()))
		})
	}
}

// waitCommitted waits until the sink's cursors moved past before, and
// returns true; or false when there is nothing left to deliver (cursors at
// the WAL's end and appending returns false).
func waitCommitted(t *testing.T, f *fixture, c *child, before uint64, appending func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		more := appending()
		now, last := f.progress()
		if now > before {
			return true
		}
		if now == last && !more {
			return false
		}
		f.checkAlive(c)
		if time.Now().After(deadline) {
			t.Fatalf("forwarder %d committed nothing within 60 s", c.pid())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// requirePartitionsUsed checks that the test's VINs put records into every
// WAL partition (otherwise a split could leave a process idle).
func requirePartitionsUsed(t *testing.T, f *fixture) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	used := map[int]bool{}
	for pos := range f.byPos {
		used[pos.Partition] = true
	}
	require.Len(t, used, walPartitions, "the records' VINs do not cover every WAL partition")
}

// requireDelivered checks what a datastore holds against the WAL: every
// record delivered at least once, each VIN in one stream, and, keeping
// only the last delivery of each record, every VIN's records in WAL order
// (record numbers grow with the WAL index within a VIN). Duplicates are
// counted and logged.
func requireDelivered(t *testing.T, f *fixture, ds []delivery) {
	t.Helper()
	f.mu.Lock()
	vin := append([]string(nil), f.vin...)
	f.mu.Unlock()
	total := len(vin)
	count := make([]int, total)
	last := make([]int, total)
	streamOf := map[string]string{}
	for i, d := range ds {
		require.Truef(t, d.n >= 0 && d.n < total, "message %d names record %d of %d: %v", i, d.n, total, errUnmapped)
		require.Equalf(t, vin[d.n], d.vin, "message %d (record %d): VIN", i, d.n)
		if s, ok := streamOf[d.vin]; ok && s != d.stream {
			t.Fatalf("VIN %s is in two streams, %q and %q", d.vin, s, d.stream)
		}
		streamOf[d.vin] = d.stream
		count[d.n]++
		last[d.n] = i
	}
	var missing []int
	distinct := 0
	for n, c := range count {
		if c == 0 {
			missing = append(missing, n)
		} else {
			distinct++
		}
	}
	prev := map[string]int{}
	var outOfOrder []string
	for i, d := range ds {
		if last[d.n] != i {
			continue
		}
		if p, ok := prev[d.vin]; ok && d.n < p {
			outOfOrder = append(outOfOrder, fmt.Sprintf("%s: record %d finally delivered after %d", d.vin, d.n, p))
		}
		prev[d.vin] = d.n
	}
	dups := len(ds) - distinct
	t.Logf("%s: %d records, %d messages, %d duplicates (%.2f%%), %d missing, %d out of order",
		f.sink, total, len(ds), dups, 100*float64(dups)/float64(max(1, total)), len(missing), len(outOfOrder))
	require.Emptyf(t, missing[:min(len(missing), 20)], "%d WAL records never delivered (first 20 shown)", len(missing))
	require.Emptyf(t, outOfOrder[:min(len(outOfOrder), 20)], "%d records out of WAL order per VIN (first 20 shown)", len(outOfOrder))
}
