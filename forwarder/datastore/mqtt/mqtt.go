// Package mqtt is the `mqtt` sink, for self-hosted consumers such as
// TeslaMate or Home Assistant. It publishes the reference server's topic
// layout with JSON values, ignoring `namespace` and
// `transmit_decoded_records` as the reference does:
//
//	<topic_base>/<VIN>/v/<Field>                 the datum's value (string, number, bool, object, null for invalid)
//	<topic_base>/<VIN>/alerts/<name>/current     {"StartedAt","EndedAt","Audiences"} of the latest alert of that name
//	<topic_base>/<VIN>/alerts/<name>/history     [ … every alert of that name in the record … ]
//	<topic_base>/<VIN>/errors/<name>             {"Body","Tags","CreatedAt"}
//	<topic_base>/<VIN>/connectivity              {"ConnectionId","Status","CreatedAt"}
//
// Times are RFC 3339 (seconds). Write returns nil only when every publish
// token of every record has completed without error. With qos 1 or 2 that
// means the broker acknowledged the message; with qos 0 (the reference's
// default) MQTT has no acknowledgement, so the sink only knows the message
// was written to the connection and cannot confirm delivery.
//
// A Write fails as a whole when the connection is not open within
// publish_timeout_ms, and a record fails when one of its publishes fails or
// makes no progress within publish_timeout_ms; the sink reconnects (every
// connect_retry_interval_ms, with a new client, so a message is never sent
// again except by the pipeline, in order) and the pipeline retries.
package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/sinkmetrics"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// Name is the dispatcher name of this sink.
const Name = "mqtt"

// Sink publishes records to an MQTT broker.
type Sink struct {
	cfg     *config.MQTTConfig
	set     datastore.Settings
	metrics *sinkmetrics.Metrics
	opts    *paho.ClientOptions

	mu     sync.Mutex
	client paho.Client // replaced by reconnect
	closed bool
}

// New returns an MQTT sink for the `mqtt` section. It starts connecting in
// the background (retrying every connect_retry_interval_ms) and does not
// wait: Writes wait for the connection instead.
func New(cfg *config.MQTTConfig, set datastore.Settings) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	set = set.WithDefaults()
	m, err := sinkmetrics.New(set.MeterProvider, Name)
	if err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg, set: set, metrics: m}
	if s.opts, err = clientOptions(cfg, set, s.reconnect); err != nil {
		return nil, err
	}
	s.client = paho.NewClient(s.opts)
	s.client.Connect()
	return s, nil
}

// current returns the client of the current connection.
func (s *Sink) current() paho.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client
}

// reconnect replaces the client whose connection was lost by a new one.
//
// The client's own automatic reconnection is off, and a lost client is
// never connected again, because a reconnected client sends messages that
// were queued or stored before the loss, including publishes that already
// failed and that the pipeline retries itself with the later records of
// their vehicle: such a message would arrive after those, out of order. A
// new client has nothing queued: what a connection did not confirm is only
// ever sent again by the pipeline, in order.
//
// It waits connect_retry_interval_ms first, as a reconnecting client does:
// a broker that closes connections at once (another client took over the
// client id) must not be hammered.
func (s *Sink) reconnect(lost paho.Client) {
	time.Sleep(ms(s.cfg.ConnectRetryIntervalMs))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client != lost {
		return
	}
	s.client = paho.NewClient(s.opts)
	s.client.Connect() // retries every connect_retry_interval_ms until connected
}

func clientOptions(cfg *config.MQTTConfig, set datastore.Settings, onLost func(paho.Client)) (*paho.ClientOptions, error) {
	broker := cfg.Broker
	if !strings.Contains(broker, "://") {
		broker = "tcp://" + broker
	}
	opts := paho.NewClientOptions().
		AddBroker(broker).
		SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		SetConnectRetry(true).
		SetAutoReconnect(false). // see Sink.reconnect
		SetCleanSession(true).
		SetConnectRetryInterval(ms(cfg.ConnectRetryIntervalMs)).
		SetMaxReconnectInterval(ms(cfg.ConnectRetryIntervalMs)).
		SetConnectTimeout(ms(cfg.ConnectTimeoutMs)).
		SetWriteTimeout(ms(cfg.PublishTimeoutMs)). // a Publish on a dying connection gives up
		SetKeepAlive(time.Duration(cfg.KeepAliveSeconds) * time.Second).
		SetOrderMatters(false).
		SetConnectionLostHandler(func(c paho.Client, err error) {
			set.Logger.Warn("mqtt connection lost", "broker", cfg.Broker, "error", err)
			onLost(c)
		}).
		SetOnConnectHandler(func(paho.Client) { set.Logger.Info("mqtt connected", "broker", cfg.Broker) })
	if cfg.TLS != nil {
		tc, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		opts.SetTLSConfig(tc)
	}
	return opts, nil
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// tlsConfig builds the client TLS settings of `mqtt.tls`.
func tlsConfig(c *config.MQTTTLSConfig) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in, documented as tests only
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt.tls.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt.tls.ca_file: no PEM certificate in %s", c.CAFile)
		}
	}
	if c.ServerCert != "" {
		cert, err := tls.LoadX509KeyPair(c.ServerCert, c.ServerKey)
		if err != nil {
			return nil, fmt.Errorf("mqtt.tls.server_cert/server_key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Name returns "mqtt".
func (s *Sink) Name() string { return Name }

// Close disconnects, giving in-flight publishes disconnect_timeout_ms;
// safe to call twice.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.client.Disconnect(uint(s.cfg.DisconnectTimeoutMs))
	return nil
}

func (s *Sink) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

var errTimeout = errors.New("no publish completed within publish_timeout_ms")
