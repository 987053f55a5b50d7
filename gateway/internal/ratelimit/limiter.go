package ratelimit

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"golang.org/x/time/rate"
)

// Settings are the Limiter's collaborators.
type Settings struct {
	// MeterProvider receives the metrics; nil means no metrics.
	MeterProvider metric.MeterProvider
}

// Limiter decides, per VIN, whether a record is within the limit. It is safe
// for concurrent use. A Limiter built from a disabled Config allows
// everything and tracks nothing.
type Limiter struct {
	enabled  bool
	limit    rate.Limit
	burst    int
	interval time.Duration
	maxVINs  int
	metrics  limiterMetrics

	mu    sync.Mutex
	vins  map[string]*list.Element // of *bucket
	order list.List                // most recently seen first
}

// bucket is one VIN's token bucket and when the VIN was last seen.
type bucket struct {
	vin      string
	limiter  *rate.Limiter
	lastSeen time.Time
}

// New validates cfg and returns a Limiter.
func New(cfg Config, set Settings) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("rate limit config: %w", err)
	}
	mp := set.MeterProvider
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	m, err := newLimiterMetrics(mp)
	if err != nil {
		return nil, err
	}
	l := &Limiter{enabled: cfg.Enabled, metrics: m, vins: make(map[string]*list.Element)}
	if cfg.Enabled {
		l.interval = cfg.Interval()
		l.burst = cfg.MessageLimit
		l.limit = rate.Limit(float64(cfg.MessageLimit) / l.interval.Seconds())
		l.maxVINs = cfg.maxVINs()
	}
	return l, nil
}

// Allow reports whether the VIN may send one more record at now, and takes
// it from the VIN's budget if so. A refused record is counted.
func (l *Limiter) Allow(vin string, now time.Time) bool {
	if !l.enabled {
		return true
	}
	l.mu.Lock()
	b := l.touch(vin, now)
	ok := b.limiter.AllowN(now, 1)
	l.evict(now)
	l.mu.Unlock()
	if !ok {
		l.metrics.limited.Add(context.Background(), 1)
	}
	return ok
}

// Tracked returns the number of VINs currently tracked.
func (l *Limiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.vins)
}

// touch returns the VIN's bucket, created full if the VIN is not tracked,
// and marks it most recently seen. l.mu must be held.
func (l *Limiter) touch(vin string, now time.Time) *bucket {
	if el, ok := l.vins[vin]; ok {
		l.order.MoveToFront(el)
		b := el.Value.(*bucket)
		if now.After(b.lastSeen) {
			b.lastSeen = now
		}
		return b
	}
	b := &bucket{vin: vin, limiter: rate.NewLimiter(l.limit, l.burst), lastSeen: now}
	l.vins[vin] = l.order.PushFront(b)
	l.metrics.tracked.Add(context.Background(), 1)
	return b
}

// evict forgets the least recently seen VINs while they have been idle for
// a whole interval (their bucket is full again) or while there are more
// than maxVINs. Each VIN is evicted once, so the cost is amortised O(1).
// l.mu must be held.
func (l *Limiter) evict(now time.Time) {
	for el := l.order.Back(); el != nil; el = l.order.Back() {
		b := el.Value.(*bucket)
		switch {
		case len(l.vins) > l.maxVINs:
			l.remove(el, b, reasonCapacity)
		case now.Sub(b.lastSeen) >= l.interval:
			l.remove(el, b, reasonIdle)
		default:
			return
		}
	}
}

// remove forgets one VIN. l.mu must be held.
func (l *Limiter) remove(el *list.Element, b *bucket, reason attribute.Set) {
	l.order.Remove(el)
	delete(l.vins, b.vin)
	ctx := context.Background()
	l.metrics.tracked.Add(ctx, -1)
	l.metrics.evicted.Add(ctx, 1, metric.WithAttributeSet(reason))
}
