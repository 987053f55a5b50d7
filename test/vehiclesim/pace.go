package vehiclesim

import (
	"context"
	"math/rand/v2"
	"time"
)

// pacer spaces a vehicle's records at a fixed rate. After a stall it does
// not catch up with a burst: at most one interval of lag is kept.
type pacer struct {
	interval time.Duration
	next     time.Time
}

// newPacer paces at rate records per second; 0 does not pace.
func newPacer(rate float64) pacer {
	if rate <= 0 {
		return pacer{}
	}
	return pacer{interval: time.Duration(float64(time.Second) / rate)}
}

// reserve books the next send slot and returns how long to wait for it.
func (p *pacer) reserve(now time.Time) time.Duration {
	if p.interval == 0 {
		return 0
	}
	if p.next.Before(now.Add(-p.interval)) {
		p.next = now
	}
	wait := p.next.Sub(now)
	p.next = p.next.Add(p.interval)
	return max(wait, 0)
}

// backoff is an exponential reconnect delay with jitter: each delay is
// drawn from [d/2, d], and d doubles up to max.
type backoff struct {
	min, max, cur time.Duration
}

func newBackoff(lo, hi time.Duration) backoff {
	return backoff{min: lo, max: hi, cur: lo}
}

func (b *backoff) next() time.Duration {
	d := b.cur
	b.cur = min(b.cur*2, b.max)
	return d/2 + rand.N(d/2+1)
}

func (b *backoff) reset() {
	b.cur = b.min
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
