package pipeline

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// Metrics are the pipeline's OpenTelemetry instruments, shared by every
// pipeline of a process. Labels are bounded: sink, partition and reason.
// A nil *Metrics records nothing.
type Metrics struct {
	deliveredRecs metric.Int64Counter
	retriedRecs   metric.Int64Counter
	failedRecs    metric.Int64Counter
	deadRecs      metric.Int64Counter
	readErrors    metric.Int64Counter
	batchSize     metric.Int64Histogram
	writeDuration metric.Float64Histogram
	latency       metric.Float64Histogram

	mu      sync.Mutex
	tracked map[trackKey]tracked
}

// tracked is a pipeline whose lag the gauges report.
type tracked struct {
	status func() Status
	head   func() (uint64, error)
}

// lag returns the entries after the cursor: up to the log's head when it is
// known, else up to what the reader has read.
func (t tracked) lag() (uint64, Status) {
	s := t.status()
	head := s.ReadIndex
	if t.head != nil {
		if h, err := t.head(); err == nil {
			head = max(head, h)
		}
	}
	return head - min(s.Cursor, head), s
}

type trackKey struct {
	sink      string
	partition int
}

// NewMetrics creates the instruments on mp's "fleetrelay/forwarder" meter.
func NewMetrics(mp metric.MeterProvider) (*Metrics, error) {
	m := mp.Meter("github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline")
	x := &Metrics{tracked: make(map[trackKey]tracked)}
	var errs [10]error
	x.deliveredRecs, errs[0] = m.Int64Counter("fleetrelay_forwarder_delivered_records",
		metric.WithUnit("{record}"), metric.WithDescription("Records the datastore accepted."))
	x.retriedRecs, errs[1] = m.Int64Counter("fleetrelay_forwarder_retried_records",
		metric.WithUnit("{record}"), metric.WithDescription("Records written again after a failed write, by reason."))
	x.failedRecs, errs[2] = m.Int64Counter("fleetrelay_forwarder_failed_records",
		metric.WithUnit("{record}"), metric.WithDescription("Records a write failed for, by reason (transient, throttled, permanent)."))
	x.deadRecs, errs[3] = m.Int64Counter("fleetrelay_forwarder_dead_lettered_records",
		metric.WithUnit("{record}"), metric.WithDescription("Records moved to the dead-letter store."))
	x.readErrors, errs[4] = m.Int64Counter("fleetrelay_forwarder_read_errors",
		metric.WithUnit("{error}"), metric.WithDescription("WAL read errors that stopped a partition, by reason (corruption, io)."))
	x.batchSize, errs[5] = m.Int64Histogram("fleetrelay_forwarder_batch_size_records",
		metric.WithUnit("{record}"), metric.WithDescription("Records per batch handed to a sink."),
		metric.WithExplicitBucketBoundaries(1, 10, 50, 100, 250, 500, 1000, 5000))
	x.writeDuration, errs[6] = m.Float64Histogram("fleetrelay_forwarder_write_duration_seconds",
		metric.WithUnit("s"), metric.WithDescription("Duration of one Sink.Write."))
	x.latency, errs[7] = m.Float64Histogram("fleetrelay_forwarder_delivery_latency_seconds",
		metric.WithUnit("s"), metric.WithDescription("From the gateway's receive time to the datastore's confirmation."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600))
	errs[8] = x.registerLag(m)
	return x, errors.Join(errs[:]...)
}

func (x *Metrics) registerLag(m metric.Meter) error {
	lagRecs, err1 := m.Int64ObservableGauge("fleetrelay_forwarder_lag_records",
		metric.WithUnit("{record}"), metric.WithDescription("WAL entries after the committed cursor."))
	lagAge, err2 := m.Float64ObservableGauge("fleetrelay_forwarder_lag_seconds",
		metric.WithUnit("s"), metric.WithDescription("Age of the oldest entry not yet committed."))
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	_, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		x.mu.Lock()
		defer x.mu.Unlock()
		now := time.Now()
		for k, t := range x.tracked {
			lag, s := t.lag()
			attrs := metric.WithAttributes(attribute.String("sink", k.sink), attribute.String("partition", strconv.Itoa(k.partition)))
			o.ObserveInt64(lagRecs, int64(lag), attrs)
			o.ObserveFloat64(lagAge, age(now, s.PendingSince), attrs)
		}
		return nil
	}, lagRecs, lagAge)
	return err
}

func age(now, since time.Time) float64 {
	if since.IsZero() {
		return 0
	}
	return max(0, now.Sub(since).Seconds())
}

// Track reports p's lag under its sink and partition, replacing any
// pipeline tracked there before, until Untrack. head, if not nil, returns
// the partition's last durable index; without it the lag counts only the
// entries read so far. A pipeline that stopped on an error stays tracked,
// so that a stuck partition keeps showing its lag.
func (x *Metrics) Track(p *Pipeline, head func() (uint64, error)) {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.tracked[trackKey{sink: p.set.Sink.Name(), partition: p.cfg.Partition}] = tracked{status: p.Status, head: head}
}

// Untrack stops reporting the lag of a sink's partition.
func (x *Metrics) Untrack(sink string, partition int) {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.tracked, trackKey{sink: sink, partition: partition})
}

func sinkAttr(sink string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("sink", sink)))
}

func (x *Metrics) batch(ctx context.Context, sink string, n int) {
	if x != nil {
		x.batchSize.Record(ctx, int64(n), sinkAttr(sink))
	}
}

// delivered counts accepted records and their end-to-end latency.
func (x *Metrics) delivered(ctx context.Context, sink string, start time.Time, recs []datastore.Record) {
	if x == nil {
		return
	}
	now := time.Now()
	attrs := sinkAttr(sink)
	x.writeDuration.Record(ctx, now.Sub(start).Seconds(), attrs)
	x.deliveredRecs.Add(ctx, int64(len(recs)), attrs)
	for _, r := range recs {
		if ms := r.WAL.GetReceivedAtMs(); ms > 0 {
			x.latency.Record(ctx, max(0, now.Sub(time.UnixMilli(ms)).Seconds()), attrs)
		}
	}
}

func (x *Metrics) failed(ctx context.Context, sink string, o outcome) {
	if x == nil {
		return
	}
	withReason := func(r string) metric.MeasurementOption {
		return metric.WithAttributes(attribute.String("sink", sink), attribute.String("reason", r))
	}
	if n := len(o.retry) - o.followers; n > 0 {
		x.failedRecs.Add(ctx, int64(n), withReason(o.reason))
	}
	if len(o.retry) > 0 {
		x.retriedRecs.Add(ctx, int64(len(o.retry)), withReason(o.reason))
	}
	if len(o.dead) > 0 {
		x.failedRecs.Add(ctx, int64(len(o.dead)), withReason(reasonPermanent))
	}
}

// resent counts records sent again, whatever their earlier answer, because
// an earlier batch failed while they were in flight.
func (x *Metrics) resent(ctx context.Context, sink string, n int) {
	if x != nil {
		x.retriedRecs.Add(ctx, int64(n), metric.WithAttributes(attribute.String("sink", sink), attribute.String("reason", reasonTransient)))
	}
}

func (x *Metrics) deadLettered(ctx context.Context, sink string, n int) {
	if x != nil {
		x.deadRecs.Add(ctx, int64(n), sinkAttr(sink))
	}
}

// readError counts an error that stopped a partition.
func (x *Metrics) readError(sink string, partition int, reason string) {
	if x != nil {
		x.readErrors.Add(context.Background(), 1, metric.WithAttributes(attribute.String("sink", sink),
			attribute.String("partition", strconv.Itoa(partition)), attribute.String("reason", reason)))
	}
}
