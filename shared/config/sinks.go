package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
)

// This file holds the datastore sections of the configuration: the keys of
// the reference server's `kafka`, `kinesis`, `pubsub`, `mqtt` and `logger`
// sections, with fleetrelay's additions marked as such. Each section has a
// Validate method whose errors name the offending key, and the sections with
// defaults have a WithDefaults method returning a copy with them applied.

// KafkaConfig is the `kafka` section: librdkafka properties passed through
// unchanged to the producer (for example "bootstrap.servers",
// "queue.buffering.max.ms", "compression.type"). JSON numbers are handed to
// librdkafka as integers when they are whole, as the reference does. The
// forwarder adds "enable.idempotence"=true and "acks"="all" unless the
// section sets them.
type KafkaConfig map[string]any

// Validate checks that "bootstrap.servers" is set and that every property is
// a string, a number or a boolean (librdkafka has no nested properties).
func (c KafkaConfig) Validate() error {
	var errs []error
	if s, ok := c["bootstrap.servers"].(string); !ok || strings.TrimSpace(s) == "" {
		errs = append(errs, errors.New("kafka.bootstrap.servers: must be a non-empty string"))
	}
	for _, key := range sortedKeys(c) {
		switch c[key].(type) {
		case string, bool, float64, float32, int, int64, int32:
		default:
			errs = append(errs, fmt.Errorf("kafka.%s: must be a string, number or boolean, got %T", key, c[key]))
		}
	}
	return errors.Join(errs...)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DefaultKinesisMaxRetries is the reference's default for kinesis.max_retries.
const DefaultKinesisMaxRetries = 1

// KinesisConfig is the `kinesis` section.
type KinesisConfig struct {
	// MaxRetries is the SDK's retry count per call (reference default 1).
	MaxRetries *int `json:"max_retries,omitempty"`
	// OverrideHost is the endpoint URL, for emulators such as kinesalite.
	OverrideHost string `json:"override_host,omitempty"`
	// Streams maps a topic to a stream name; KINESIS_STREAM_<TOPIC> wins over it.
	Streams map[string]string `json:"streams,omitempty"`
}

// WithDefaults returns a copy with max_retries defaulted to 1.
func (c *KinesisConfig) WithDefaults() *KinesisConfig {
	out := *c
	if out.MaxRetries == nil {
		n := DefaultKinesisMaxRetries
		out.MaxRetries = &n
	}
	return &out
}

// Validate checks max_retries, override_host and the stream names.
func (c *KinesisConfig) Validate() error {
	var errs []error
	if c.MaxRetries != nil && *c.MaxRetries < 0 {
		errs = append(errs, errors.New("kinesis.max_retries: must be >= 0"))
	}
	if c.OverrideHost != "" {
		if err := checkURL(c.OverrideHost, "http", "https"); err != nil {
			errs = append(errs, fmt.Errorf("kinesis.override_host: %w", err))
		}
	}
	for topic, stream := range c.Streams {
		if strings.TrimSpace(stream) == "" {
			errs = append(errs, fmt.Errorf("kinesis.streams.%s: must not be empty", topic))
		}
	}
	return errors.Join(errs...)
}

func checkURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	for _, s := range schemes {
		if strings.EqualFold(u.Scheme, s) && u.Host != "" {
			return nil
		}
	}
	return fmt.Errorf("%q must be a URL with scheme %s and a host", raw, strings.Join(schemes, ", "))
}

// PubSubConfig is the `pubsub` section.
type PubSubConfig struct {
	// GCPProjectID is the Google Cloud project holding the topics (required).
	GCPProjectID string `json:"gcp_project_id"`
	// CreateTopics (fleetrelay addition, default true like the reference,
	// which creates missing topics at startup) creates a missing topic before
	// the first publish to it. Set false when the service account may not
	// create topics.
	CreateTopics *bool `json:"create_topics,omitempty"`
}

// WithDefaults returns a copy with create_topics defaulted to true.
func (c *PubSubConfig) WithDefaults() *PubSubConfig {
	out := *c
	if out.CreateTopics == nil {
		t := true
		out.CreateTopics = &t
	}
	return &out
}

// Validate checks that gcp_project_id is set.
func (c *PubSubConfig) Validate() error {
	if strings.TrimSpace(c.GCPProjectID) == "" {
		return errors.New("pubsub.gcp_project_id: must be set")
	}
	return nil
}

// Defaults of the `mqtt` section, the reference's values.
const (
	DefaultMQTTConnectTimeoutMs       = 30000
	DefaultMQTTPublishTimeoutMs       = 2500
	DefaultMQTTDisconnectTimeoutMs    = 250
	DefaultMQTTConnectRetryIntervalMs = 10000
	DefaultMQTTKeepAliveSeconds       = 30
)

// MQTTConfig is the `mqtt` section.
type MQTTConfig struct {
	// Broker is the broker: "host:port" as in the reference's examples
	// (plain TCP), or a URL with scheme tcp:// or mqtt:// (plain), ssl://,
	// tls:// or mqtts:// (TLS), ws:// or wss://.
	Broker   string `json:"broker"`
	ClientID string `json:"client_id,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// TopicBase prefixes every topic: <topic_base>/<VIN>/...
	TopicBase string `json:"topic_base,omitempty"`
	// QoS is the MQTT quality of service, 0, 1 or 2. Only QoS 1 and 2 get
	// an acknowledgement from the broker; with QoS 0 a publish counts as
	// delivered once written to the connection.
	QoS                    byte `json:"qos,omitempty"`
	Retained               bool `json:"retained,omitempty"`
	ConnectTimeoutMs       int  `json:"connect_timeout_ms,omitempty"`
	PublishTimeoutMs       int  `json:"publish_timeout_ms,omitempty"`
	DisconnectTimeoutMs    int  `json:"disconnect_timeout_ms,omitempty"`
	ConnectRetryIntervalMs int  `json:"connect_retry_interval_ms,omitempty"`
	KeepAliveSeconds       int  `json:"keep_alive_seconds,omitempty"`
	// TLS (fleetrelay addition) configures ssl://, tls://, mqtts:// and wss://
	// brokers. Without it the system trust store is used.
	TLS *MQTTTLSConfig `json:"tls,omitempty"`
}

// MQTTTLSConfig is the `mqtt.tls` section (fleetrelay addition). It uses the
// same key names as the reference's `redis.tls` section.
type MQTTTLSConfig struct {
	// CAFile is a PEM bundle trusted for the broker's certificate, in place
	// of the system roots.
	CAFile string `json:"ca_file,omitempty"`
	// ServerCert and ServerKey are the PEM client certificate and key sent to
	// the broker (optional; both or neither).
	ServerCert string `json:"server_cert,omitempty"`
	ServerKey  string `json:"server_key,omitempty"`
	// ServerName overrides the name checked in the broker's certificate.
	ServerName string `json:"server_name,omitempty"`
	// InsecureSkipVerify disables broker certificate checks (tests only).
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
}

// WithDefaults returns a copy with the reference's timeouts filled in where
// zero.
func (c *MQTTConfig) WithDefaults() *MQTTConfig {
	out := *c
	setDefault(&out.ConnectTimeoutMs, DefaultMQTTConnectTimeoutMs)
	setDefault(&out.PublishTimeoutMs, DefaultMQTTPublishTimeoutMs)
	setDefault(&out.DisconnectTimeoutMs, DefaultMQTTDisconnectTimeoutMs)
	setDefault(&out.ConnectRetryIntervalMs, DefaultMQTTConnectRetryIntervalMs)
	setDefault(&out.KeepAliveSeconds, DefaultMQTTKeepAliveSeconds)
	return &out
}

func setDefault(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}

// Validate checks the broker URL, qos, timeouts and TLS files.
func (c *MQTTConfig) Validate() error {
	var errs []error
	if err := checkBroker(c.Broker); err != nil {
		errs = append(errs, fmt.Errorf("mqtt.broker: %w", err))
	}
	if c.QoS > 2 {
		errs = append(errs, errors.New("mqtt.qos: must be 0, 1 or 2"))
	}
	for _, f := range []struct {
		key string
		v   int
	}{
		{"connect_timeout_ms", c.ConnectTimeoutMs}, {"publish_timeout_ms", c.PublishTimeoutMs},
		{"disconnect_timeout_ms", c.DisconnectTimeoutMs}, {"connect_retry_interval_ms", c.ConnectRetryIntervalMs},
		{"keep_alive_seconds", c.KeepAliveSeconds},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("mqtt.%s: must be >= 0", f.key))
		}
	}
	if strings.Contains(c.TopicBase, "#") || strings.Contains(c.TopicBase, "+") {
		errs = append(errs, errors.New("mqtt.topic_base: must not contain the wildcards + or #"))
	}
	if c.TLS != nil && (c.TLS.ServerCert == "") != (c.TLS.ServerKey == "") {
		errs = append(errs, errors.New("mqtt.tls: server_cert and server_key must be set together"))
	}
	return errors.Join(errs...)
}

// checkBroker accepts "host:port" or a URL with an MQTT scheme.
func checkBroker(broker string) error {
	if !strings.Contains(broker, "://") {
		if _, port, err := net.SplitHostPort(broker); err != nil || port == "" {
			return fmt.Errorf("%q must be host:port or a URL", broker)
		}
		return nil
	}
	return checkURL(broker, "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss")
}

// LoggerConfig is the `logger` section.
type LoggerConfig struct {
	// Verbose wraps each value with its type name, as the reference does.
	Verbose bool `json:"verbose"`
	// File (fleetrelay addition) appends the JSON lines to this file instead
	// of standard output; each batch is flushed and fsynced before Write
	// returns.
	File string `json:"file,omitempty"`
}

// Validate checks the logger section; every combination of keys is valid
// today, and the method exists so that all sections validate alike.
func (c *LoggerConfig) Validate() error {
	if c.File != "" && strings.TrimSpace(c.File) == "" {
		return errors.New("logger.file: must not be blank")
	}
	return nil
}
