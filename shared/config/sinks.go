package config

// This file holds the datastore sections of the configuration: the keys of
// the reference server's `kafka`, `kinesis`, `pubsub`, `mqtt` and `logger`
// sections, plus fleetrelay's own `forwarder` section.

// KafkaConfig is the `kafka` section: librdkafka properties passed through
// unchanged to the producer (for example "bootstrap.servers",
// "queue.buffering.max.ms", "compression.type").
type KafkaConfig map[string]any

// KinesisConfig is the `kinesis` section.
type KinesisConfig struct {
	// MaxRetries is the SDK's retry count per call (reference default 1).
	MaxRetries *int `json:"max_retries,omitempty"`
	// OverrideHost is the endpoint URL, for emulators such as kinesalite.
	OverrideHost string `json:"override_host,omitempty"`
	// Streams maps a topic to a stream name; KINESIS_STREAM_<TOPIC> wins over it.
	Streams map[string]string `json:"streams,omitempty"`
}

// PubSubConfig is the `pubsub` section.
type PubSubConfig struct {
	GCPProjectID string `json:"gcp_project_id"`
}

// MQTTConfig is the `mqtt` section.
type MQTTConfig struct {
	Broker                 string `json:"broker"`
	ClientID               string `json:"client_id,omitempty"`
	Username               string `json:"username,omitempty"`
	Password               string `json:"password,omitempty"`
	TopicBase              string `json:"topic_base,omitempty"`
	QoS                    byte   `json:"qos,omitempty"`
	Retained               bool   `json:"retained,omitempty"`
	ConnectTimeoutMs       int    `json:"connect_timeout_ms,omitempty"`
	PublishTimeoutMs       int    `json:"publish_timeout_ms,omitempty"`
	DisconnectTimeoutMs    int    `json:"disconnect_timeout_ms,omitempty"`
	ConnectRetryIntervalMs int    `json:"connect_retry_interval_ms,omitempty"`
	KeepAliveSeconds       int    `json:"keep_alive_seconds,omitempty"`
}

// LoggerConfig is the `logger` section.
type LoggerConfig struct {
	// Verbose wraps each value with its type name, as the reference does.
	Verbose bool `json:"verbose"`
}
