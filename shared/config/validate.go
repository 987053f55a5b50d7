package config

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
)

// Dispatcher names accepted in `records`, as in the reference.
const (
	DispatcherKafka   = "kafka"
	DispatcherKinesis = "kinesis"
	DispatcherPubSub  = "pubsub"
	DispatcherMQTT    = "mqtt"
	DispatcherLogger  = "logger"
	DispatcherZMQ     = "zmq"
	DispatcherRedis   = "redis"
)

// TopicConnectivity is the record type of connectivity events.
const TopicConnectivity = "connectivity"

// MaxSignalTrackingVINs is the reference's limit on
// vins_signal_tracking_enabled.
const MaxSignalTrackingVINs = 20

var builtDispatchers = []string{DispatcherKafka, DispatcherKinesis, DispatcherPubSub, DispatcherMQTT, DispatcherLogger}

func isBuiltDispatcher(d string) bool {
	for _, b := range builtDispatchers {
		if b == d {
			return true
		}
	}
	return false
}

func isKnownDispatcher(d string) bool {
	return isBuiltDispatcher(d) || d == DispatcherZMQ || d == DispatcherRedis
}

// logLevels are the logrus level names the reference accepts.
var logLevels = []string{"trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"}

// Validate checks every value and returns all problems joined, each a
// *KeyError naming its key.
func (c *Config) Validate() error {
	errs := []error{
		c.validateListener(),
		c.validateRecords(),
		c.validateReliableAck(),
		c.RateLimit.Validate(),
		c.validateLogging(),
		c.Monitoring.Validate(),
		c.WAL.Validate(),
		c.Gateway.Validate(),
	}
	errs = append(errs, c.validateSinks()...)
	return errors.Join(errs...)
}

func (c *Config) validateListener() error {
	var errs []error
	errs = append(errs, checkPort("port", c.Port, true), checkPort("status_port", c.StatusPort, true))
	switch {
	case c.TLS == nil:
		errs = append(errs, keyErr("tls", "required: the telemetry server is mTLS only"))
	default:
		if c.TLS.ServerCert == "" {
			errs = append(errs, keyErr("tls.server_cert", "required"))
		}
		if c.TLS.ServerKey == "" {
			errs = append(errs, keyErr("tls.server_key", "required"))
		}
	}
	return errors.Join(errs...)
}

func checkPort(key string, port int, zeroOK bool) error {
	if port < 0 || port > 65535 || (!zeroOK && port == 0) {
		return keyErr(key, "invalid port %d", port)
	}
	return nil
}

func (c *Config) validateRecords() error {
	var errs []error
	for _, topic := range keysOf(c.Records) {
		key := "records." + topic
		if len(c.Records[topic]) == 0 {
			errs = append(errs, keyErr(key, "empty dispatcher list"))
		}
		for i, d := range c.Records[topic] {
			if !isKnownDispatcher(d) {
				errs = append(errs, keyErr(fmt.Sprintf("%s[%d]", key, i),
					"unknown dispatcher %q (want one of kafka, kinesis, pubsub, mqtt, logger, zmq, redis)", d))
			}
		}
	}
	return errors.Join(errs...)
}

// validateReliableAck applies the reference's own rules, so a config the
// reference refuses is refused here too.
func (c *Config) validateReliableAck() error {
	var errs []error
	for _, topic := range keysOf(c.ReliableAckSources) {
		d := c.ReliableAckSources[topic]
		key := "reliable_ack_sources." + topic
		switch {
		case topic == TopicConnectivity:
			errs = append(errs, keyErr(key, "reliable ack not needed for txType: connectivity"))
		case d == DispatcherLogger:
			errs = append(errs, keyErr(key, "logger cannot be configured as reliable ack for record: %s", topic))
		case c.Records[topic] == nil:
			errs = append(errs, keyErr(key, "%s cannot be configured as reliable ack for record: %s since no record mapping exists", d, topic))
		case !contains(c.Records[topic], d):
			errs = append(errs, keyErr(key, "%s cannot be configured as reliable ack for record: %s. Valid datastores configured %v", d, topic, c.Records[topic]))
		}
	}
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Validate checks the rate_limit section (nil is valid: off).
func (r *RateLimitConfig) Validate() error {
	if r == nil {
		return nil
	}
	var errs []error
	if r.Enabled && r.MessageLimit <= 0 {
		errs = append(errs, keyErr("rate_limit.message_limit", "must be > 0 when rate_limit.enabled is true"))
	}
	if r.MessageIntervalTime < 0 {
		errs = append(errs, keyErr("rate_limit.message_interval_time", "must be >= 0 seconds"))
	}
	if r.MessageIntervalTimeSecond < 0 {
		errs = append(errs, keyErr("rate_limit.MessageIntervalTimeSecond", "must be >= 0 nanoseconds"))
	}
	return errors.Join(errs...)
}

func (c *Config) validateLogging() error {
	var errs []error
	if !contains(logLevels, strings.ToLower(c.LogLevel)) {
		errs = append(errs, keyErr("log_level", "invalid level %q (want one of %s)", c.LogLevel, strings.Join(logLevels, ", ")))
	}
	if n := uniqueCount(c.VinsSignalTrackingEnabled); n > MaxSignalTrackingVINs {
		errs = append(errs, keyErr("vins_signal_tracking_enabled", "%d VINs, at most %d", n, MaxSignalTrackingVINs))
	}
	return errors.Join(errs...)
}

func uniqueCount(list []string) int {
	seen := make(map[string]struct{}, len(list))
	for _, s := range list {
		seen[s] = struct{}{}
	}
	return len(seen)
}

// Validate checks the monitoring section (nil is valid: no metrics).
func (m *MonitoringConfig) Validate() error {
	if m == nil {
		return nil
	}
	return errors.Join(
		checkPort("monitoring.prometheus_metrics_port", m.PrometheusMetricsPort, true),
		checkPort("monitoring.profiler_port", m.ProfilerPort, true),
	)
}

// Validate checks the wal section.
func (w *WALConfig) Validate() error {
	var errs []error
	if w.Dir == "" {
		errs = append(errs, keyErr("wal.dir", "required"))
	}
	if w.Partitions < 1 || w.Partitions > 1024 {
		errs = append(errs, keyErr("wal.partitions", "must be between 1 and 1024, got %d", w.Partitions))
	}
	if w.SegmentSizeBytes < 1<<16 {
		errs = append(errs, keyErr("wal.segment_size_bytes", "must be at least 65536, got %d", w.SegmentSizeBytes))
	}
	if w.MaxBatchBytes < 1 {
		errs = append(errs, keyErr("wal.max_batch_bytes", "must be > 0, got %d", w.MaxBatchBytes))
	}
	if w.MaxBatchRecords < 1 {
		errs = append(errs, keyErr("wal.max_batch_records", "must be > 0, got %d", w.MaxBatchRecords))
	}
	if w.SyncDepth < 1 || w.SyncDepth > 8 {
		errs = append(errs, keyErr("wal.sync_depth", "must be between 1 and 8, got %d", w.SyncDepth))
	}
	if w.PreallocateBytes < -1 {
		errs = append(errs, keyErr("wal.preallocate_bytes", "must be -1 (off) or > 0, got %d", w.PreallocateBytes))
	}
	if w.DiskBudgetBytes < 0 || (w.DiskBudgetBytes > 0 && w.DiskBudgetBytes < 2*w.SegmentSizeBytes) {
		errs = append(errs, keyErr("wal.disk_budget_bytes", "must be 0 (no budget) or at least two segments (%d), got %d", 2*w.SegmentSizeBytes, w.DiskBudgetBytes))
	}
	return errors.Join(errs...)
}

// Validate checks the gateway section.
func (g *GatewayConfig) Validate() error {
	var errs []error
	if g.MaxConnections < 1 {
		errs = append(errs, keyErr("gateway.max_connections", "must be > 0, got %d", g.MaxConnections))
	}
	if g.MaxInFlight < 1 || g.MaxInFlight > 4096 {
		errs = append(errs, keyErr("gateway.max_in_flight", "must be between 1 and 4096, got %d", g.MaxInFlight))
	}
	for key, d := range map[string]Duration{
		"gateway.idle_timeout": g.IdleTimeout, "gateway.read_header_timeout": g.ReadHeaderTimeout,
		"gateway.write_timeout": g.WriteTimeout, "gateway.wal_retry_delay": g.WALRetryDelay,
	} {
		if d <= 0 {
			errs = append(errs, keyErr(key, "must be > 0, got %s", d.D()))
		}
	}
	if g.ShutdownTimeout <= 0 || g.ShutdownTimeout.D() > MaxShutdownTimeout {
		errs = append(errs, keyErr("gateway.shutdown_timeout", "must be > 0 and at most %s, got %s", MaxShutdownTimeout, g.ShutdownTimeout.D()))
	}
	for i, p := range g.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			errs = append(errs, keyErr(fmt.Sprintf("gateway.trusted_proxies[%d]", i), "%w", err))
		}
	}
	return errors.Join(errs...)
}

// ParsePrefix parses a trusted-proxy entry: an IP address or a CIDR prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid address or CIDR %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// validateSinks calls the Validate method of every datastore section that
// has one, and checks that each dispatcher named in records has its section.
func (c *Config) validateSinks() []error {
	var errs []error
	sections := map[string]any{
		"kafka": c.Kafka, "kinesis": c.Kinesis, "pubsub": c.PubSub, "mqtt": c.MQTT,
		"logger": c.Logger, "forwarder": &c.Forwarder,
	}
	for _, name := range keysOf(sections) {
		errs = append(errs, validateSection(sections[name]))
	}
	required := map[string]bool{
		DispatcherKafka: c.Kafka != nil, DispatcherPubSub: c.PubSub != nil, DispatcherMQTT: c.MQTT != nil,
	}
	for _, topic := range keysOf(c.Records) {
		for i, d := range c.Records[topic] {
			if present, ok := required[d]; ok && !present {
				errs = append(errs, keyErr(fmt.Sprintf("records.%s[%d]", topic, i), "dispatcher %s needs a %s section", d, d))
			}
		}
	}
	return errs
}

type validator interface{ Validate() error }

func validateSection(section any) error {
	v, ok := section.(validator)
	if !ok || isNilPointer(section) {
		return nil
	}
	return v.Validate()
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map:
		return rv.IsNil()
	default:
		return false
	}
}
