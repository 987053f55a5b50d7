// Package gwmetrics holds the gateway's connection-level instruments
// (connections, online vehicles, acks, WAL appends, refused identities).
// Frame decisions are counted by package ingest. Every label value comes
// from a fixed set: configured topics plus "other", typed reasons; never a
// VIN or a txid.
package gwmetrics

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

const meterName = "github.com/fleetrelay/fleetrelay/gateway"

// OtherTopic labels records of topics that are not configured.
const OtherTopic = "other"

// Metrics are the gateway's instruments. The zero value is not usable; a
// nil *Metrics is (every method is a no-op).
//
// The per-record counts (received bytes, acks by topic) are atomic counters
// that the SDK reads at collection time (observable counters), so a record
// costs an atomic add rather than an SDK measurement.
type Metrics struct {
	connections   metric.Int64UpDownCounter
	closed        metric.Int64Counter
	online        metric.Int64UpDownCounter
	received      metric.Int64ObservableCounter
	acks          metric.Int64ObservableCounter
	errorFrames   metric.Int64Counter
	appendLatency metric.Float64Histogram
	appendFailed  metric.Int64Counter
	refused       metric.Int64Counter
	certReloads   metric.Int64Counter

	receivedBytes atomic.Int64
	topics        map[string]*topicAcks // configured topics; read-only after New
	other         topicAcks
}

// topicAcks counts the acks of one topic label.
type topicAcks struct {
	n   atomic.Int64
	opt metric.ObserveOption
}

// New creates the instruments on mp (nil = no-op) for the configured topics.
func New(mp metric.MeterProvider, topics []string) (*Metrics, error) {
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	m := &Metrics{topics: make(map[string]*topicAcks, len(topics))}
	for _, t := range topics {
		m.topics[t] = &topicAcks{opt: metric.WithAttributeSet(attribute.NewSet(attribute.String("topic", t)))}
	}
	m.other.opt = metric.WithAttributeSet(attribute.NewSet(attribute.String("topic", OtherTopic)))
	if err := m.create(mp.Meter(meterName)); err != nil {
		return nil, fmt.Errorf("gateway metrics: %w", err)
	}
	return m, nil
}

// observe reports the atomic counters; series whose count is zero are
// left out, as a synchronous counter never touched has none.
func (m *Metrics) observe(_ context.Context, o metric.Observer) error {
	if v := m.receivedBytes.Load(); v != 0 {
		o.ObserveInt64(m.received, v)
	}
	for _, t := range m.topics {
		if v := t.n.Load(); v != 0 {
			o.ObserveInt64(m.acks, v, t.opt)
		}
	}
	if v := m.other.n.Load(); v != 0 {
		o.ObserveInt64(m.acks, v, m.other.opt)
	}
	return nil
}

func (m *Metrics) create(meter metric.Meter) error {
	var errs [11]error
	m.connections, errs[0] = meter.Int64UpDownCounter("fleetrelay_gateway_connections",
		metric.WithDescription("Open vehicle websocket connections."), metric.WithUnit("{connection}"))
	m.closed, errs[1] = meter.Int64Counter("fleetrelay_gateway_connections_closed",
		metric.WithDescription("Closed vehicle connections, by close reason."), metric.WithUnit("{connection}"))
	m.online, errs[2] = meter.Int64UpDownCounter("fleetrelay_gateway_online_vehicles",
		metric.WithDescription("Vehicles with at least one open connection."), metric.WithUnit("{vehicle}"))
	m.received, errs[3] = meter.Int64ObservableCounter("fleetrelay_gateway_received",
		metric.WithDescription("Bytes of binary frames received from vehicles."), metric.WithUnit("By"))
	m.acks, errs[4] = meter.Int64ObservableCounter("fleetrelay_gateway_acks",
		metric.WithDescription("Ack frames sent, by topic (configured topics, else other)."), metric.WithUnit("{frame}"))
	m.errorFrames, errs[5] = meter.Int64Counter("fleetrelay_gateway_error_frames",
		metric.WithDescription("Error frames sent, by ingest reason."), metric.WithUnit("{frame}"))
	m.appendLatency, errs[6] = meter.Float64Histogram("fleetrelay_gateway_wal_append_duration",
		metric.WithDescription("Time from receiving a record to its durable WAL append."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
	m.appendFailed, errs[7] = meter.Int64Counter("fleetrelay_gateway_wal_append_failures",
		metric.WithDescription("Records not acked because the WAL refused them, by reason (full, closed, error)."), metric.WithUnit("{record}"))
	m.refused, errs[8] = meter.Int64Counter("fleetrelay_gateway_refused_connections",
		metric.WithDescription("Connections refused before the upgrade, by reason."), metric.WithUnit("{connection}"))
	m.certReloads, errs[9] = meter.Int64Counter("fleetrelay_gateway_cert_reloads",
		metric.WithDescription("Server certificate reloads, by result (ok, error)."), metric.WithUnit("{reload}"))
	if errs[4] == nil && errs[3] == nil {
		_, errs[10] = meter.RegisterCallback(m.observe, m.received, m.acks)
	}
	return errors.Join(errs[:]...)
}

func reason(r string) metric.AddOption {
	return metric.WithAttributes(attribute.String("reason", r))
}

// ConnOpened counts an open connection.
func (m *Metrics) ConnOpened() {
	if m != nil {
		m.connections.Add(context.Background(), 1)
	}
}

// ConnClosed counts a closed connection and its close reason.
func (m *Metrics) ConnClosed(closeReason string) {
	if m != nil {
		m.connections.Add(context.Background(), -1)
		m.closed.Add(context.Background(), 1, reason(closeReason))
	}
}

// OnlineDelta moves the online-vehicles gauge.
func (m *Metrics) OnlineDelta(d int64) {
	if m != nil {
		m.online.Add(context.Background(), d)
	}
}

// Received counts received frame bytes.
func (m *Metrics) Received(n int) {
	if m != nil {
		m.receivedBytes.Add(int64(n))
	}
}

// Ack counts an ack frame for topic.
func (m *Metrics) Ack(topic []byte) {
	if m == nil {
		return
	}
	if t, ok := m.topics[string(topic)]; ok {
		t.n.Add(1)
		return
	}
	m.other.n.Add(1)
}

// ErrorFrame counts an error frame sent for an ingest reason.
func (m *Metrics) ErrorFrame(ingestReason string) {
	if m != nil {
		m.errorFrames.Add(context.Background(), 1, reason(ingestReason))
	}
}

// Appended records the receive-to-durable latency of one record.
func (m *Metrics) Appended(d time.Duration) {
	if m != nil {
		m.appendLatency.Record(context.Background(), d.Seconds())
	}
}

// AppendFailed counts a record the WAL refused.
func (m *Metrics) AppendFailed(failReason string) {
	if m != nil {
		m.appendFailed.Add(context.Background(), 1, reason(failReason))
	}
}

// Refused counts a connection refused before the upgrade.
func (m *Metrics) Refused(refuseReason string) {
	if m != nil {
		m.refused.Add(context.Background(), 1, reason(refuseReason))
	}
}

// CertReloaded counts a server certificate reload attempt.
func (m *Metrics) CertReloaded(err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.certReloads.Add(context.Background(), 1, metric.WithAttributes(attribute.String("result", result)))
}
