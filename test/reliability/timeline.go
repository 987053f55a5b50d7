package reliability

import (
	"os"
	"sync"
	"time"

	"github.com/fleetrelay/fleetrelay/wal"
)

// sample is the state of the system at one instant.
type sample struct {
	at       time.Time
	ackBytes int64             // size of the vehicles' ack log
	lag      map[string]uint64 // per sink, WAL entries not yet delivered
	walBytes int64
}

// timeline samples the ack log, each sink's lag and the WAL size, and
// keeps the WAL index current.
type timeline struct {
	s     *system
	index *walIndex

	mu      sync.Mutex
	samples []sample
	errs    []error
}

func (t *timeline) run(stop <-chan struct{}, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		t.take()
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// take records one sample.
func (t *timeline) take() sample {
	if err := t.index.poll(); err != nil {
		t.fail(err)
	}
	smp := sample{at: time.Now(), lag: map[string]uint64{}}
	if st, err := os.Stat(t.s.ackedTo); err == nil {
		smp.ackBytes = st.Size()
	}
	for _, sink := range t.s.cfg.Sinks {
		l, err := lag(t.s.walDir, t.index.partitions, sink)
		if err != nil {
			t.fail(err)
			continue
		}
		smp.lag[sink] = l
	}
	for p := range t.index.partitions {
		if st, err := wal.StatPartition(t.s.walDir, p); err == nil {
			smp.walBytes += st.Bytes
		}
	}
	t.mu.Lock()
	t.samples = append(t.samples, smp)
	t.mu.Unlock()
	return smp
}

func (t *timeline) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errs) < 20 {
		t.errs = append(t.errs, err)
	}
}

// snapshot returns the samples so far.
func (t *timeline) snapshot() []sample {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]sample(nil), t.samples...)
}

// last returns the latest sample.
func (t *timeline) last() (sample, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.samples) == 0 {
		return sample{}, false
	}
	return t.samples[len(t.samples)-1], true
}

// ackStalledFor reports how long the ack log has not grown, as of the last sample.
func (t *timeline) ackStalledFor() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.samples)
	if n == 0 {
		return 0
	}
	last := t.samples[n-1]
	i := n - 1
	for i > 0 && t.samples[i-1].ackBytes == last.ackBytes {
		i--
	}
	return last.at.Sub(t.samples[i].at)
}

// caughtUpLags returns, per sink, the lag at or under which the sink counts
// as caught up after a fault injected at start: the larger of floor and the
// highest lag sampled in the 3 seconds before start (a sink that runs near
// its capacity has a standing lag).
func caughtUpLags(samples []sample, start time.Time, sinks []string, floor uint64) map[string]uint64 {
	out := make(map[string]uint64, len(sinks))
	for _, s := range sinks {
		out[s] = floor
	}
	for _, smp := range samples {
		if smp.at.Before(start.Add(-3*time.Second)) || !smp.at.Before(start) {
			continue
		}
		for s, l := range smp.lag {
			out[s] = max(out[s], l)
		}
	}
	return out
}

// recovery measures, from lifted until end, when acks grew again and when
// every sink's lag was at or under its caught-up lag; -1 means never. It
// also returns the longest interval without ack growth from start to end.
func recovery(samples []sample, start, lifted, end time.Time, maxLag map[string]uint64) (acksResumed, caughtUp, longestAckGap time.Duration) {
	acksResumed, caughtUp = -1, -1
	var prev *sample
	lastGrowth := start
	for i := range samples {
		smp := &samples[i]
		if smp.at.Before(start) {
			prev = smp
			continue
		}
		if smp.at.After(end) {
			break
		}
		grew := prev != nil && smp.ackBytes > prev.ackBytes
		if grew {
			longestAckGap = max(longestAckGap, smp.at.Sub(lastGrowth))
			lastGrowth = smp.at
		}
		if !smp.at.Before(lifted) {
			if grew && acksResumed < 0 {
				acksResumed = smp.at.Sub(lifted)
			}
			if caughtUp < 0 && lagUnder(smp.lag, maxLag) {
				caughtUp = smp.at.Sub(lifted)
			}
		}
		prev = smp
	}
	return acksResumed, caughtUp, longestAckGap
}

// lagUnder reports whether every sink's lag is at or under its maximum (a
// sink without one must have no lag).
func lagUnder(lag, maxLag map[string]uint64) bool {
	for s, l := range lag {
		if l > maxLag[s] {
			return false
		}
	}
	return true
}
