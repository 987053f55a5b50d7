package ratelimit

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// meterName identifies this package's instruments.
const meterName = "github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"

// Eviction reasons, the only values of the "reason" label.
var (
	reasonIdle     = attribute.NewSet(attribute.String("reason", "idle"))
	reasonCapacity = attribute.NewSet(attribute.String("reason", "capacity"))
)

// limiterMetrics are the Limiter's instruments.
type limiterMetrics struct {
	limited metric.Int64Counter
	tracked metric.Int64UpDownCounter
	evicted metric.Int64Counter
}

func newLimiterMetrics(mp metric.MeterProvider) (limiterMetrics, error) {
	m := mp.Meter(meterName)
	limited, errL := m.Int64Counter("fleetrelay_gateway_rate_limited_records",
		metric.WithDescription("Records refused by the per-VIN rate limit: not stored, not acknowledged."),
		metric.WithUnit("{record}"))
	tracked, errT := m.Int64UpDownCounter("fleetrelay_gateway_rate_limit_tracked_vins",
		metric.WithDescription("VINs whose rate-limit budget is currently tracked."),
		metric.WithUnit("{vin}"))
	evicted, errE := m.Int64Counter("fleetrelay_gateway_rate_limit_evicted_vins",
		metric.WithDescription("VINs forgotten by the rate limiter, by reason (idle: budget full again; capacity: over MaxVINs)."),
		metric.WithUnit("{vin}"))
	if err := errors.Join(errL, errT, errE); err != nil {
		return limiterMetrics{}, fmt.Errorf("rate limit metrics: %w", err)
	}
	return limiterMetrics{limited: limited, tracked: tracked, evicted: evicted}, nil
}
