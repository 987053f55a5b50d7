package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSinkSectionsValidate(t *testing.T) {
	neg := -1
	tests := []struct {
		name    string
		section interface{ Validate() error }
		wantErr string
	}{
		{"kafka_ok", KafkaConfig{"bootstrap.servers": "b:9092", "linger.ms": float64(5)}, ""},
		{"kafka_no_servers", KafkaConfig{}, "kafka.bootstrap.servers: must be a non-empty string"},
		{"kafka_nested", KafkaConfig{"bootstrap.servers": "b", "x": map[string]any{}}, "kafka.x: must be a string, number or boolean"},
		{"kinesis_ok", &KinesisConfig{OverrideHost: "http://127.0.0.1:4567"}, ""},
		{"kinesis_negative_retries", &KinesisConfig{MaxRetries: &neg}, "kinesis.max_retries: must be >= 0"},
		{"kinesis_bad_host", &KinesisConfig{OverrideHost: "127.0.0.1"}, "kinesis.override_host"},
		{"kinesis_empty_stream", &KinesisConfig{Streams: map[string]string{"V": ""}}, "kinesis.streams.V: must not be empty"},
		{"pubsub_ok", &PubSubConfig{GCPProjectID: "p"}, ""},
		{"pubsub_no_project", &PubSubConfig{}, "pubsub.gcp_project_id: must be set"},
		{"mqtt_ok", &MQTTConfig{Broker: "ssl://broker:8883", QoS: 1}, ""},
		{"mqtt_bad_qos", &MQTTConfig{Broker: "tcp://b:1883", QoS: 3}, "mqtt.qos: must be 0, 1 or 2"},
		{"mqtt_bad_broker", &MQTTConfig{Broker: "http://b"}, "mqtt.broker"},
		{"mqtt_host_port_broker", &MQTTConfig{Broker: "localhost:1883"}, ""},
		{"mqtt_no_port", &MQTTConfig{Broker: "localhost"}, "mqtt.broker"},
		{"mqtt_negative_timeout", &MQTTConfig{Broker: "tcp://b:1883", PublishTimeoutMs: -1}, "mqtt.publish_timeout_ms: must be >= 0"},
		{"mqtt_wildcard_base", &MQTTConfig{Broker: "tcp://b:1883", TopicBase: "a/#"}, "mqtt.topic_base"},
		{"mqtt_half_client_cert", &MQTTConfig{Broker: "tls://b:8883", TLS: &MQTTTLSConfig{ServerCert: "c.pem"}}, "mqtt.tls: server_cert and server_key"},
		{"logger_ok", &LoggerConfig{Verbose: true}, ""},
		{"logger_blank_file", &LoggerConfig{File: "  "}, "logger.file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.section.Validate()
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestSinkSectionsWithDefaults(t *testing.T) {
	m := (&MQTTConfig{Broker: "tcp://b:1883", PublishTimeoutMs: 100}).WithDefaults()
	require.Equal(t, 100, m.PublishTimeoutMs)
	require.Equal(t, 30000, m.ConnectTimeoutMs)
	require.Equal(t, 250, m.DisconnectTimeoutMs)
	require.Equal(t, 10000, m.ConnectRetryIntervalMs)
	require.Equal(t, 30, m.KeepAliveSeconds)

	k := (&KinesisConfig{}).WithDefaults()
	require.Equal(t, 1, *k.MaxRetries)
	zero := 0
	require.Equal(t, 0, *(&KinesisConfig{MaxRetries: &zero}).WithDefaults().MaxRetries)

	p := (&PubSubConfig{GCPProjectID: "p"}).WithDefaults()
	require.True(t, *p.CreateTopics)
}
