package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ForwarderConfig is fleetrelay's `forwarder` section (not in the reference
// config): how the forwarder processes batch, retry, keep dead letters, share
// partitions and report status. Zero values mean "use the default"; call
// WithDefaults before Validate.
type ForwarderConfig struct {
	// Sinks lists the dispatcher names a forwarder process runs when its
	// command line does not say (-sinks). Empty means every dispatcher named
	// under `records`.
	Sinks []string `json:"sinks,omitempty"`
	// BatchMaxRecords caps the records handed to one Sink.Write, for every
	// sink. Unset (0) lets each sink use its own default (see
	// BatchMaxRecordsFor); WithDefaults leaves it unset.
	BatchMaxRecords int `json:"batch_max_records,omitempty"`
	// BatchMaxBytes caps the summed WAL entry sizes of one batch.
	BatchMaxBytes int `json:"batch_max_bytes,omitempty"`
	// BatchLingerMs is how long a partly filled batch waits for more records
	// before it is sent.
	BatchLingerMs int `json:"batch_linger_ms,omitempty"`
	// PrefetchBatches is how many batches of one (sink, partition) the WAL
	// reader builds ahead while the current one is being written. Writes of
	// one (sink, partition) are sequential, which keeps per-VIN order,
	// except to Kafka with its idempotent producer, which keeps the order of
	// what it is handed: up to this many batches are then in flight.
	PrefetchBatches int `json:"prefetch_batches,omitempty"`
	// Retry is the backoff between attempts of a failed batch. There is no
	// maximum elapsed time: the WAL is the buffer and retries never give up.
	Retry RetryConfig `json:"retry"`
	// DeadLetterDir holds one dead-letter log per sink. Empty means
	// "<wal dir>/deadletter".
	DeadLetterDir string `json:"dead_letter_dir,omitempty"`
	// PartitionRebalanceIntervalMs is how often a process tries to take WAL
	// partitions that no live process owns.
	PartitionRebalanceIntervalMs int `json:"partition_rebalance_interval_ms,omitempty"`
	// StatusIntervalMs is how often each (sink, partition) writes its status
	// file for `forwarder status`.
	StatusIntervalMs int `json:"status_interval_ms,omitempty"`
	// ShutdownTimeoutMs bounds how long SIGTERM waits for in-flight batches
	// before the process exits (their records are redelivered next start).
	ShutdownTimeoutMs int `json:"shutdown_timeout_ms,omitempty"`
	// PrometheusMetricsPort is the forwarder's own metrics port, on
	// monitoring.prometheus_metrics_host. The gateway and the forwarders read
	// the same file and often share a host (or a pod), so the forwarder
	// cannot reuse monitoring.prometheus_metrics_port: 0 means that port + 1,
	// -1 turns the forwarder's metrics off. A process running beside other
	// forwarders overrides it with `forwarder -metrics-addr`.
	PrometheusMetricsPort int `json:"prometheus_metrics_port,omitempty"`
}

// MetricsAddr returns host:port of the forwarder's metrics endpoint, or ""
// when metrics are off (no monitoring port, or prometheus_metrics_port -1).
func (c *ForwarderConfig) MetricsAddr(m *MonitoringConfig) string {
	if m == nil || m.PrometheusMetricsPort <= 0 || c.PrometheusMetricsPort < 0 {
		return ""
	}
	port := c.PrometheusMetricsPort
	if port == 0 {
		port = m.PrometheusMetricsPort + 1
	}
	return joinHostPort(m.PrometheusMetricsHost, port)
}

// RetryConfig is the `forwarder.retry` section: exponential backoff with
// jitter, capped at MaxIntervalMs, never giving up.
type RetryConfig struct {
	// InitialIntervalMs is the wait after the first failure.
	InitialIntervalMs int `json:"initial_interval_ms,omitempty"`
	// MaxIntervalMs caps the wait between two attempts.
	MaxIntervalMs int `json:"max_interval_ms,omitempty"`
	// Multiplier grows the wait after each failure (≥ 1).
	Multiplier float64 `json:"multiplier,omitempty"`
	// Jitter is the randomization factor in [0, 1): each wait is drawn from
	// interval·[1-jitter, 1+jitter].
	Jitter *float64 `json:"jitter,omitempty"`
}

// Forwarder defaults, each with its reason.
const (
	// DefaultBatchMaxRecords is the batch record limit of a sink that states
	// no preference of its own, when forwarder.batch_max_records is unset.
	// It matches the largest batch Kinesis PutRecords takes in one call.
	// Sinks may prefer another size (the forwarder's datastore.BatchSizer):
	// Kafka takes larger batches (fewer, fuller hand-overs to librdkafka).
	DefaultBatchMaxRecords = 500
	// DefaultBatchMaxBytes stays under Kinesis' 5 MiB PutRecords limit.
	DefaultBatchMaxBytes = 4 << 20
	// DefaultBatchLingerMs keeps delivery latency low while letting a busy
	// partition fill its batches.
	DefaultBatchLingerMs = 20
	// DefaultPrefetchBatches lets the next batches be read and decoded while
	// the current one awaits its confirmation.
	DefaultPrefetchBatches = 4
	// DefaultRetryInitialIntervalMs retries a transient failure quickly.
	DefaultRetryInitialIntervalMs = 200
	// DefaultRetryMaxIntervalMs bounds how late a recovered datastore is
	// noticed during a long outage.
	DefaultRetryMaxIntervalMs = 30_000
	// DefaultRetryMultiplier doubles the wait after each failure.
	DefaultRetryMultiplier = 2.0
	// DefaultRetryJitter spreads the retries of many partitions over time.
	DefaultRetryJitter = 0.2
	// DefaultPartitionRebalanceIntervalMs takes over a dead process's
	// partitions within seconds.
	DefaultPartitionRebalanceIntervalMs = 2_000
	// DefaultStatusIntervalMs keeps `forwarder status` fresh at a negligible
	// write cost.
	DefaultStatusIntervalMs = 1_000
	// DefaultShutdownTimeoutMs fits in a typical 30 s container stop grace.
	DefaultShutdownTimeoutMs = 20_000
)

// WithDefaults returns a copy of c with every unset field at its default,
// except BatchMaxRecords, whose default depends on the sink: resolve it with
// BatchMaxRecordsFor.
func (c ForwarderConfig) WithDefaults() ForwarderConfig {
	setInt(&c.BatchMaxBytes, DefaultBatchMaxBytes)
	setInt(&c.BatchLingerMs, DefaultBatchLingerMs)
	setInt(&c.PrefetchBatches, DefaultPrefetchBatches)
	setInt(&c.PartitionRebalanceIntervalMs, DefaultPartitionRebalanceIntervalMs)
	setInt(&c.StatusIntervalMs, DefaultStatusIntervalMs)
	setInt(&c.ShutdownTimeoutMs, DefaultShutdownTimeoutMs)
	c.Retry = c.Retry.WithDefaults()
	return c
}

// BatchMaxRecordsFor returns the batch record limit of a sink whose own
// default is sinkDefault: forwarder.batch_max_records when set (it applies to
// every sink), else sinkDefault, else DefaultBatchMaxRecords when the sink
// has no default (sinkDefault ≤ 0).
func (c *ForwarderConfig) BatchMaxRecordsFor(sinkDefault int) int {
	switch {
	case c.BatchMaxRecords > 0:
		return c.BatchMaxRecords
	case sinkDefault > 0:
		return sinkDefault
	default:
		return DefaultBatchMaxRecords
	}
}

// WithDefaults returns a copy of r with every unset field at its default.
func (r RetryConfig) WithDefaults() RetryConfig {
	setInt(&r.InitialIntervalMs, DefaultRetryInitialIntervalMs)
	setInt(&r.MaxIntervalMs, DefaultRetryMaxIntervalMs)
	if r.Multiplier == 0 {
		r.Multiplier = DefaultRetryMultiplier
	}
	if r.Jitter == nil {
		j := DefaultRetryJitter
		r.Jitter = &j
	}
	return r
}

func setInt(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}

// Validate reports every invalid key of the section, named by its full path
// (for example "forwarder.batch_max_records"). Zero values are accepted as
// "default"; negative or inconsistent values are not.
func (c *ForwarderConfig) Validate() error {
	errs := []error{
		nonNegative("forwarder.batch_max_records", c.BatchMaxRecords),
		nonNegative("forwarder.batch_max_bytes", c.BatchMaxBytes),
		nonNegative("forwarder.batch_linger_ms", c.BatchLingerMs),
		nonNegative("forwarder.prefetch_batches", c.PrefetchBatches),
		nonNegative("forwarder.partition_rebalance_interval_ms", c.PartitionRebalanceIntervalMs),
		nonNegative("forwarder.status_interval_ms", c.StatusIntervalMs),
		nonNegative("forwarder.shutdown_timeout_ms", c.ShutdownTimeoutMs),
		c.validateMetricsPort(),
		c.validateSinks(),
		c.Retry.Validate(),
	}
	return errors.Join(errs...)
}

func (c *ForwarderConfig) validateMetricsPort() error {
	if c.PrometheusMetricsPort < -1 || c.PrometheusMetricsPort > 65535 {
		return fmt.Errorf("forwarder.prometheus_metrics_port: %d is not a port (0 = monitoring port + 1, -1 = off)", c.PrometheusMetricsPort)
	}
	return nil
}

func (c *ForwarderConfig) validateSinks() error {
	seen := make(map[string]bool, len(c.Sinks))
	for _, s := range c.Sinks {
		if strings.TrimSpace(s) == "" || seen[s] {
			return fmt.Errorf("forwarder.sinks: empty or repeated name %q", s)
		}
		seen[s] = true
	}
	return nil
}

// Validate reports every invalid key of `forwarder.retry`.
func (r *RetryConfig) Validate() error {
	errs := []error{
		nonNegative("forwarder.retry.initial_interval_ms", r.InitialIntervalMs),
		nonNegative("forwarder.retry.max_interval_ms", r.MaxIntervalMs),
	}
	if r.Multiplier != 0 && r.Multiplier < 1 {
		errs = append(errs, fmt.Errorf("forwarder.retry.multiplier: %v is below 1", r.Multiplier))
	}
	if r.Jitter != nil && (*r.Jitter < 0 || *r.Jitter >= 1) {
		errs = append(errs, fmt.Errorf("forwarder.retry.jitter: %v is outside [0, 1)", *r.Jitter))
	}
	if r.InitialIntervalMs > 0 && r.MaxIntervalMs > 0 && r.InitialIntervalMs > r.MaxIntervalMs {
		errs = append(errs, fmt.Errorf("forwarder.retry.initial_interval_ms: %d exceeds max_interval_ms %d",
			r.InitialIntervalMs, r.MaxIntervalMs))
	}
	return errors.Join(errs...)
}

func nonNegative(key string, v int) error {
	if v < 0 {
		return fmt.Errorf("%s: %d is negative", key, v)
	}
	return nil
}

// BatchLinger is BatchLingerMs as a duration.
func (c *ForwarderConfig) BatchLinger() time.Duration { return ms(c.BatchLingerMs) }

// PartitionRebalanceInterval is PartitionRebalanceIntervalMs as a duration.
func (c *ForwarderConfig) PartitionRebalanceInterval() time.Duration {
	return ms(c.PartitionRebalanceIntervalMs)
}

// StatusInterval is StatusIntervalMs as a duration.
func (c *ForwarderConfig) StatusInterval() time.Duration { return ms(c.StatusIntervalMs) }

// ShutdownTimeout is ShutdownTimeoutMs as a duration.
func (c *ForwarderConfig) ShutdownTimeout() time.Duration { return ms(c.ShutdownTimeoutMs) }

func ms(v int) time.Duration { return time.Duration(v) * time.Millisecond }
