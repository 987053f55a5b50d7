package config

import "time"

// The sections below belong to reference features fleetrelay does not
// build. Their keys are declared so that a reference config loads (with a
// warning naming the section) and so that typos inside them are still
// reported as unknown keys.

// ZMQConfig is the reference's `zmq` section.
type ZMQConfig struct {
	Addr                      string `json:"addr"`
	ServerKeyJSONPath         string `json:"server_key_json_path"`
	AllowedPublicKeysJSONPath string `json:"allowed_public_keys_json_path"`
	Verbose                   bool   `json:"verbose"`
}

// RedisConfig is the reference's `redis` section.
type RedisConfig struct {
	Addrs                 []string         `json:"addrs"`
	Username              string           `json:"username"`
	Password              string           `json:"password"`
	DB                    int              `json:"db"`
	TLS                   *TLSConfig       `json:"tls"`
	OverrideTLSServerName string           `json:"override_tls_server_name"`
	ClusterMode           bool             `json:"cluster_mode"`
	PublishTimeout        time.Duration    `json:"publish_timeout"`
	PublishVINTopics      bool             `json:"publish_vin_topics"`
	SubscriberSetPrefix   string           `json:"subscriber_set_prefix"`
	Pool                  *RedisPoolConfig `json:"pool"`
}

// RedisPoolConfig is the reference's `redis.pool` section (durations in
// nanoseconds).
type RedisPoolConfig struct {
	PoolSize        int           `json:"pool_size"`
	MinIdleConns    int           `json:"min_idle_conns"`
	MaxIdleConns    int           `json:"max_idle_conns"`
	MaxActiveConns  int           `json:"max_active_conns"`
	ReadTimeout     time.Duration `json:"read_timeout"`
	WriteTimeout    time.Duration `json:"write_timeout"`
	PoolTimeout     time.Duration `json:"pool_timeout"`
	ConnMaxIdleTime time.Duration `json:"conn_max_idle_time"`
	ConnMaxLifetime time.Duration `json:"conn_max_lifetime"`
}

// AirbrakeConfig is the reference's `airbrake` section.
type AirbrakeConfig struct {
	Host        string     `json:"host"`
	ProjectKey  string     `json:"project_key"`
	Environment string     `json:"environment"`
	ProjectID   int64      `json:"project_id"`
	TLS         *TLSConfig `json:"tls"`
}

// StatsdConfig is the reference's `monitoring.statsd` section.
// SampleRate appears in the reference README only.
type StatsdConfig struct {
	Host        string `json:"host"`
	Prefix      string `json:"prefix"`
	SampleRate  int    `json:"sample_rate"`
	FlushPeriod int    `json:"flush_period"`
}
