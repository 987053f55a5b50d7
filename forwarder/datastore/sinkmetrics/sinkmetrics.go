// Package sinkmetrics holds the counters every datastore sink keeps, named
// fleetrelay_forwarder_<sink>_<name>_<unit>:
//
//   - sent_records / sent_bytes: records (and value bytes) handed to the
//     datastore client;
//   - acked_records: records the datastore confirmed;
//   - failed_records: records the datastore rejected or did not confirm.
//
// The counters carry no labels, so their cardinality is fixed.
package sinkmetrics

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/metric"
)

// Metrics are one sink's counters.
type Metrics struct {
	sent, sentBytes, acked, failed metric.Int64Counter
}

// New creates the counters of sink (a dispatcher name such as "kafka") with
// mp's meter "github.com/fleetrelay/fleetrelay/forwarder/datastore".
func New(mp metric.MeterProvider, sink string) (*Metrics, error) {
	meter := mp.Meter("github.com/fleetrelay/fleetrelay/forwarder/datastore")
	prefix := "fleetrelay_forwarder_" + sink + "_"
	m := &Metrics{}
	var err error
	for _, c := range []struct {
		dst        *metric.Int64Counter
		name, unit string
		desc       string
	}{
		{&m.sent, "sent_records", "{record}", "Records handed to the datastore client."},
		{&m.sentBytes, "sent_bytes", "By", "Value bytes handed to the datastore client."},
		{&m.acked, "acked_records", "{record}", "Records the datastore confirmed."},
		{&m.failed, "failed_records", "{record}", "Records the datastore rejected or did not confirm."},
	} {
		*c.dst, err = meter.Int64Counter(prefix+c.name, metric.WithUnit(c.unit), metric.WithDescription(c.desc))
		if err != nil {
			return nil, fmt.Errorf("metric %s%s: %w", prefix, c.name, err)
		}
	}
	return m, nil
}

// Sent counts n records of size bytes handed to the datastore client.
func (m *Metrics) Sent(ctx context.Context, n, size int) {
	m.sent.Add(ctx, int64(n))
	m.sentBytes.Add(ctx, int64(size))
}

// Acked counts n records the datastore confirmed.
func (m *Metrics) Acked(ctx context.Context, n int) {
	if n > 0 {
		m.acked.Add(ctx, int64(n))
	}
}

// Failed counts n records the datastore rejected or did not confirm.
func (m *Metrics) Failed(ctx context.Context, n int) {
	if n > 0 {
		m.failed.Add(ctx, int64(n))
	}
}
