package vehiclesim

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Topics the simulator can send.
const (
	TopicV      = "V"
	TopicAlerts = "alerts"
	TopicErrors = "errors"
)

// Defaults of Config, see NewDefaultConfig.
const (
	// DefaultWindow: one record in flight per vehicle, as the reference
	// server's load measurements used.
	DefaultWindow = 1
	// DefaultResendTimeout: long enough for a loaded server's p99 ack
	// latency, short enough that a lost ack shows up within a run.
	DefaultResendTimeout = 5 * time.Second
	// DefaultVersion is the device client version sent in the Version header.
	DefaultVersion = "1.2.0"
	// DefaultNetworkInterface is sent in the X-Network-Interface header.
	DefaultNetworkInterface = "wifi"
	// DefaultBackoffMin and DefaultBackoffMax bound the reconnect delay.
	DefaultBackoffMin = 250 * time.Millisecond
	DefaultBackoffMax = 10 * time.Second
	// DefaultDrainTimeout is how long a stopping vehicle waits for the acks
	// of records already sent.
	DefaultDrainTimeout = 2 * time.Second
	// DefaultDialTimeout bounds the TCP, TLS and websocket handshake.
	DefaultDialTimeout = 10 * time.Second
)

// Vehicle is one simulated vehicle's identity.
type Vehicle struct {
	VIN  string
	Cert tls.Certificate
}

// Config describes a simulation run. Build it with NewDefaultConfig.
type Config struct {
	// URL is the server's websocket URL, e.g. wss://127.0.0.1:4443/.
	URL string
	// Vehicles are the simulated vehicles, each with its own certificate.
	Vehicles []Vehicle
	// RootCAs verifies the server certificate; nil uses the system pool.
	RootCAs *x509.CertPool
	// Rate is records per second per vehicle; 0 sends as fast as the window allows.
	Rate float64
	// Window is the number of records per vehicle sent but not yet answered.
	Window int
	// Duration ends the run; 0 runs until the context is cancelled.
	Duration time.Duration
	// Warmup is excluded from the final report's figures.
	Warmup time.Duration
	// ResendTimeout is how long a record may stay unacked before it is resent.
	ResendTimeout time.Duration
	// Mix weighs the topics of generated records.
	Mix Mix
	// ReportInterval is the period of progress reports; 0 disables them.
	ReportInterval time.Duration
	// Version and NetworkInterface are the request headers of each connection.
	Version, NetworkInterface string
	// BackoffMin and BackoffMax bound the exponential reconnect delay.
	BackoffMin, BackoffMax time.Duration
	// DrainTimeout is how long a stopping vehicle waits for outstanding acks.
	DrainTimeout time.Duration
	// DialTimeout bounds one connection attempt.
	DialTimeout time.Duration
	// TxIDPrefix starts every txid ("<prefix>-<seq>"); empty picks a random
	// one per run so that txids of separate runs never collide.
	TxIDPrefix string
	_          struct{}
}

// NewDefaultConfig returns a configuration with every default set; URL and
// Vehicles remain to be filled in.
func NewDefaultConfig() Config {
	return Config{
		Window:           DefaultWindow,
		ResendTimeout:    DefaultResendTimeout,
		Mix:              DefaultMix(),
		Version:          DefaultVersion,
		NetworkInterface: DefaultNetworkInterface,
		BackoffMin:       DefaultBackoffMin,
		BackoffMax:       DefaultBackoffMax,
		DrainTimeout:     DefaultDrainTimeout,
		DialTimeout:      DefaultDialTimeout,
	}
}

// Validate checks the configuration, naming the offending setting.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "wss" && u.Scheme != "ws") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url: want wss://host:port/, got %q", c.URL))
	}
	if len(c.Vehicles) == 0 {
		errs = append(errs, errors.New("vehicles: none"))
	}
	errs = append(errs, c.validateNumbers()...)
	if err := c.Mix.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c Config) validateNumbers() []error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Rate >= 0, "rate: must not be negative, got %v", c.Rate)
	check(c.Window >= 1, "window: must be at least 1, got %d", c.Window)
	check(c.Duration >= 0 && c.Warmup >= 0, "duration, warmup: must not be negative")
	check(c.Duration == 0 || c.Warmup < c.Duration, "warmup: %s must be shorter than duration %s", c.Warmup, c.Duration)
	check(c.ResendTimeout > 0, "resend_timeout: must be positive, got %s", c.ResendTimeout)
	check(c.ReportInterval >= 0, "report_interval: must not be negative")
	check(c.BackoffMin > 0 && c.BackoffMax >= c.BackoffMin, "backoff: need 0 < min <= max, got %s..%s", c.BackoffMin, c.BackoffMax)
	check(c.DrainTimeout >= 0, "drain_timeout: must not be negative")
	check(c.DialTimeout > 0, "dial_timeout: must be positive")
	return errs
}

// Mix is the relative weight of each topic among generated records.
type Mix map[string]int

// DefaultMix is 90 % V, 5 % alerts, 5 % errors.
func DefaultMix() Mix {
	return Mix{TopicV: 90, TopicAlerts: 5, TopicErrors: 5}
}

// ParseMix parses "V=90,alerts=5,errors=5".
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for part := range strings.SplitSeq(s, ",") {
		topic, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("topics: %q is not topic=weight", part)
		}
		w, err := strconv.Atoi(weight)
		if err != nil {
			return nil, fmt.Errorf("topics: weight of %s: %w", topic, err)
		}
		m[topic] = w
	}
	return m, m.Validate()
}

// Validate checks that every topic is known, weights are not negative and
// at least one is positive.
func (m Mix) Validate() error {
	total := 0
	for topic, w := range m {
		if !slices.Contains([]string{TopicV, TopicAlerts, TopicErrors}, topic) {
			return fmt.Errorf("topics: unknown topic %q (want V, alerts or errors)", topic)
		}
		if w < 0 {
			return fmt.Errorf("topics: weight of %s is negative", topic)
		}
		total += w
	}
	if total == 0 {
		return errors.New("topics: all weights are zero")
	}
	return nil
}

// String formats the mix as ParseMix reads it, topics in a fixed order.
func (m Mix) String() string {
	var parts []string
	for _, t := range []string{TopicV, TopicAlerts, TopicErrors} {
		if w, ok := m[t]; ok {
			parts = append(parts, t+"="+strconv.Itoa(w))
		}
	}
	return strings.Join(parts, ",")
}
