package config

import "time"

// Config is the whole configuration file. The top-level keys are the
// reference server's (§3.1 of its description); WAL, Gateway and Forwarder
// are fleetrelay's own sections.
type Config struct {
	// Host is the listen host of the telemetry (mTLS websocket) port; ""
	// means all interfaces.
	Host string `json:"host"`
	// Port is the telemetry port; 0 picks a free port.
	Port int `json:"port"`
	// StatusPort, when > 0, serves plain-HTTP GET /status → "ok" on Host.
	StatusPort int `json:"status_port"`
	// TLS holds the server certificate and extra client CAs; required.
	TLS *TLSConfig `json:"tls"`
	// UseDefaultEngCA trusts Tesla's engineering CA bundle instead of the
	// production one.
	UseDefaultEngCA bool `json:"use_default_eng_ca"`
	// Namespace prefixes datastore topic names: "<namespace>_<topic>".
	Namespace string `json:"namespace"`
	// Records maps a record topic ("V", "alerts", ...) to its dispatchers.
	Records map[string][]string `json:"records"`
	// ReliableAckSources maps a topic to the dispatcher whose delivery
	// releases the ack in the reference. fleetrelay acks after the durable
	// WAL append, so this is accepted and reported as a warning.
	ReliableAckSources map[string]string `json:"reliable_ack_sources"`
	// ReliableAck is the README's "reliable_ack" key, which the reference
	// never reads either; accepted and reported as a warning.
	ReliableAck *bool `json:"reliable_ack"`
	// TransmitDecodedRecords sends protojson instead of protobuf to the
	// datastores.
	TransmitDecodedRecords bool `json:"transmit_decoded_records"`
	// RateLimit configures per-connection rate limiting.
	RateLimit *RateLimitConfig `json:"rate_limit"`
	// LogLevel is a logrus level name (trace, debug, info, warn, error,
	// fatal, panic); "" means info.
	LogLevel string `json:"log_level"`
	// JSONLogEnable switches logs from text to JSON lines.
	JSONLogEnable bool `json:"json_log_enable"`
	// Logger configures the logger dispatcher.
	Logger *LoggerConfig `json:"logger"`
	// VinsSignalTrackingEnabled lists VINs for per-VIN signal metrics in the
	// reference; fleetrelay exports no per-VIN metrics (warning).
	VinsSignalTrackingEnabled []string `json:"vins_signal_tracking_enabled"`
	// Monitoring configures metrics, health and profiling endpoints.
	Monitoring *MonitoringConfig `json:"monitoring"`

	// Kafka holds librdkafka properties for the kafka dispatcher.
	Kafka KafkaConfig `json:"kafka"`
	// Kinesis configures the kinesis dispatcher.
	Kinesis *KinesisConfig `json:"kinesis"`
	// PubSub configures the pubsub dispatcher.
	PubSub *PubSubConfig `json:"pubsub"`
	// MQTT configures the mqtt dispatcher.
	MQTT *MQTTConfig `json:"mqtt"`
	// ZMQ is the reference's zmq section; not built (warning).
	ZMQ *ZMQConfig `json:"zmq"`
	// Redis is the reference's redis section; not built (warning).
	Redis *RedisConfig `json:"redis"`
	// Airbrake is the reference's airbrake section; not built (warning).
	Airbrake *AirbrakeConfig `json:"airbrake"`

	// WAL configures fleetrelay's write-ahead log.
	WAL WALConfig `json:"wal"`
	// Gateway configures fleetrelay's vehicle-facing server limits.
	Gateway GatewayConfig `json:"gateway"`
	// Forwarder configures fleetrelay's forwarder processes.
	Forwarder ForwarderConfig `json:"forwarder"`
}

// TLSConfig is the `tls` section.
type TLSConfig struct {
	// ServerCert is the PEM server certificate chain file; reloaded when it
	// changes.
	ServerCert string `json:"server_cert"`
	// ServerKey is the PEM private key file of ServerCert.
	ServerKey string `json:"server_key"`
	// CAFile, optional, holds extra PEM CA certificates trusted for client
	// certificates, in addition to Tesla's bundle.
	CAFile string `json:"ca_file"`
}

// RateLimitConfig is the `rate_limit` section.
type RateLimitConfig struct {
	// Enabled turns limiting on.
	Enabled bool `json:"enabled"`
	// MessageLimit is the number of records allowed per interval.
	MessageLimit int `json:"message_limit"`
	// MessageIntervalTime is the documented interval in seconds. The
	// reference never applies it (its limiter then never trips).
	MessageIntervalTime int `json:"message_interval_time"`
	// MessageIntervalTimeSecond is the reference's undocumented effective
	// interval, in nanoseconds despite its name.
	MessageIntervalTimeSecond time.Duration `json:"MessageIntervalTimeSecond"`
}

// MonitoringConfig is the `monitoring` section.
type MonitoringConfig struct {
	// PrometheusMetricsPort, when > 0, serves GET /metrics.
	PrometheusMetricsPort int `json:"prometheus_metrics_port"`
	// PrometheusMetricsHost is the metrics listen host (default 127.0.0.1).
	PrometheusMetricsHost string `json:"prometheus_metrics_host"`
	// Statsd is the reference's statsd sink; not built (warning).
	Statsd *StatsdConfig `json:"statsd"`
	// ProfilerPort, when > 0, serves Go's /debug/pprof/ endpoints.
	ProfilerPort int `json:"profiler_port"`
	// ProfilerHost is the pprof listen host (default 127.0.0.1).
	ProfilerHost string `json:"profiler_host"`
	// ProfilingPath is the reference's trace output file; not built
	// (warning): /debug/pprof/trace serves traces instead.
	ProfilingPath string `json:"profiling_path"`
}

// ProfilerAddr returns host:port of the pprof endpoint, or "" when off.
func (m *MonitoringConfig) ProfilerAddr() string {
	if m == nil || m.ProfilerPort <= 0 {
		return ""
	}
	return joinHostPort(m.ProfilerHost, m.ProfilerPort)
}

// PrometheusAddr returns host:port of the metrics endpoint, or "" when
// metrics are off.
func (m *MonitoringConfig) PrometheusAddr() string {
	if m == nil || m.PrometheusMetricsPort <= 0 {
		return ""
	}
	return joinHostPort(m.PrometheusMetricsHost, m.PrometheusMetricsPort)
}
