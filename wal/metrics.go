package wal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const meterName = "github.com/fleetrelay/fleetrelay/wal"

// metrics are the writer's OpenTelemetry instruments. Attribute values are
// bounded: a partition number or a configured consumer name.
type metrics struct {
	appends metric.Int64Counter
	bytes   metric.Int64Counter
	batch   metric.Int64Histogram
	fsync   metric.Float64Histogram
	dropped metric.Int64Counter
	full    metric.Int64Counter
	reg     metric.Registration
	byPart  []metric.MeasurementOption
}

func newMetrics(mp metric.MeterProvider, l *Log) (*metrics, error) {
	m := &metrics{}
	meter := mp.Meter(meterName)
	var errs [8]error
	m.appends, errs[0] = meter.Int64Counter("fleetrelay_wal_appended_records_total",
		metric.WithDescription("Records appended and fsynced."))
	m.bytes, errs[1] = meter.Int64Counter("fleetrelay_wal_appended_bytes_total",
		metric.WithDescription("Bytes written to segments, framing included."), metric.WithUnit("By"))
	m.batch, errs[2] = meter.Int64Histogram("fleetrelay_wal_batch_records",
		metric.WithDescription("Records per group commit (per fsync)."),
		metric.WithExplicitBucketBoundaries(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096))
	m.fsync, errs[3] = meter.Float64Histogram("fleetrelay_wal_fsync_duration_seconds",
		metric.WithDescription("Duration of one group commit: write and fsync."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1))
	m.dropped, errs[4] = meter.Int64Counter("fleetrelay_wal_dropped_records_total",
		metric.WithDescription("Undelivered records deleted by the DropOldest overflow policy."))
	m.full, errs[5] = meter.Int64Counter("fleetrelay_wal_full_rejections_total",
		metric.WithDescription("Appends refused with ErrFull at the disk budget."))
	disk, err6 := meter.Int64ObservableGauge("fleetrelay_wal_disk_bytes",
		metric.WithDescription("Bytes of all segment files."), metric.WithUnit("By"))
	lag, err7 := meter.Int64ObservableGauge("fleetrelay_wal_consumer_lag_records",
		metric.WithDescription("Durable records a consumer has not committed yet, per partition."))
	budget, err8 := meter.Int64ObservableGauge("fleetrelay_wal_disk_budget_bytes",
		metric.WithDescription("Options.DiskBudgetBytes (wal.disk_budget_bytes); 0 means no budget."), metric.WithUnit("By"))
	errs[6], errs[7] = err6, err7
	if err := errors.Join(append(errs[:], err8)...); err != nil {
		return nil, fmt.Errorf("wal: metrics: %w", err)
	}
	for i := range l.parts {
		m.byPart = append(m.byPart, metric.WithAttributeSet(attribute.NewSet(attribute.String("partition", strconv.Itoa(i)))))
	}
	m.reg, err6 = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(disk, l.used.Load())
		o.ObserveInt64(budget, l.opts.DiskBudgetBytes)
		l.lag.observe(o, lag)
		return nil
	}, disk, budget, lag)
	if err6 != nil {
		return nil, fmt.Errorf("wal: metrics: %w", err6)
	}
	return m, nil
}

func (m *metrics) recordBatch(partition, records int, bytes int64, d time.Duration) {
	ctx, attrs := context.Background(), m.byPart[partition]
	m.appends.Add(ctx, int64(records), attrs)
	m.bytes.Add(ctx, bytes, attrs)
	m.batch.Record(ctx, int64(records), attrs)
	m.fsync.Record(ctx, d.Seconds(), attrs)
}

func (m *metrics) unregister() error {
	if m == nil || m.reg == nil {
		return nil
	}
	return wrapErr("wal: unregister metrics", m.reg.Unregister())
}

// lagKey identifies one consumer in one partition.
type lagKey struct {
	consumer  string
	partition int
}

// lagTable holds the consumer lag computed by the last retention pass.
type lagTable struct {
	mu  sync.Mutex
	lag map[lagKey]int64
}

func (t *lagTable) set(consumer string, partition int, lag int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lag == nil {
		t.lag = make(map[lagKey]int64)
	}
	t.lag[lagKey{consumer, partition}] = lag
}

func (t *lagTable) observe(o metric.Observer, g metric.Int64ObservableGauge) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range t.lag {
		o.ObserveInt64(g, v, metric.WithAttributes(
			attribute.String("consumer", k.consumer), attribute.String("partition", strconv.Itoa(k.partition))))
	}
}
