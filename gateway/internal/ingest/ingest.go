package ingest

import (
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"
)

// DefaultMaxFrameBytes is the reference server's record size limit
// (telemetry.SizeLimit): larger frames are answered with an error.
const DefaultMaxFrameBytes = 1_000_000

// Conn is what the gateway knows about one vehicle connection. Every field
// comes from the verified certificate or the upgrade request, never from a
// frame.
type Conn struct {
	// VIN is the certificate's Subject CN with '.' replaced by '-'.
	VIN string
	// ClientType is the identity's client type, e.g. "vehicle_device".
	ClientType string
	// DeviceClientVersion is the `Version` request header.
	DeviceClientVersion string
	// NetworkInterface is the `X-Network-Interface` request header.
	NetworkInterface string
	// ConnectionID identifies the connection (X-TXID if it is a UUID, else random).
	ConnectionID string
}

// Action is what the gateway does with a frame.
type Action uint8

// The actions, one per row group of the decision table (see the package doc).
const (
	// ActionStore: append Result.Frame to the WAL, then send Ack(TxID, Topic).
	ActionStore Action = iota + 1
	// ActionAck: send Ack(TxID, Topic) and store nothing.
	ActionAck
	// ActionError: send Error(TxID, envelope.ErrorText) and store nothing.
	ActionError
	// ActionDrop: send nothing and store nothing (rate limited; the vehicle
	// resends later).
	ActionDrop
)

// String returns the action's metric label value.
func (a Action) String() string {
	switch a {
	case ActionStore:
		return "store"
	case ActionAck:
		return "ack"
	case ActionError:
		return "error"
	case ActionDrop:
		return "drop"
	default:
		return fmt.Sprintf("action(%d)", uint8(a))
	}
}

// Reason says which row of the decision table a frame took. Its values form
// a small fixed set, usable as a metric label.
type Reason string

// The reasons.
const (
	ReasonStored            Reason = "stored"             // configured topic, valid payload
	ReasonRateLimited       Reason = "rate_limited"       // over the VIN's rate limit
	ReasonTooBig            Reason = "too_big"            // frame larger than MaxFrameBytes
	ReasonEmpty             Reason = "empty"              // zero-length frame
	ReasonNotStream         Reason = "not_stream"         // valid envelope without a stream message
	ReasonMalformed         Reason = "malformed"          // not a FlatBuffers envelope
	ReasonUnconfiguredTopic Reason = "unconfigured_topic" // topic not in records, sender matches
	ReasonSenderMismatch    Reason = "sender_mismatch"    // topic not in records, sender_id is not this vehicle
	ReasonBadPayload        Reason = "bad_payload"        // payload is not the topic's protobuf message
)

// Errors carried in Result.Err; compare with errors.Is. Envelope and
// protobuf failures are wrapped instead (envelope.ErrEmpty,
// envelope.ErrNotStream, envelope.ErrMalformed, record errors).
var (
	// ErrRateLimited reports a frame over its VIN's rate limit.
	ErrRateLimited = errors.New("ingest: rate limit exceeded")
	// ErrFrameTooBig reports a frame over MaxFrameBytes.
	ErrFrameTooBig = errors.New("ingest: frame too big")
	// ErrTopicNotConfigured reports a topic absent from `records`.
	ErrTopicNotConfigured = errors.New("ingest: topic not configured")
	// ErrSenderMismatch reports a sender_id that is neither
	// "<client type>.<VIN>" nor the VIN of the connection's certificate.
	ErrSenderMismatch = errors.New("ingest: sender_id does not match the certificate")
)

// Result is the decision for one frame.
type Result struct {
	// Action is what to do.
	Action Action
	// TxID is the txid to put in the answer (empty when the frame could not
	// be parsed or was too big). For ActionStore it is Record.Txid; otherwise
	// it points into the frame, which must stay unmodified until the answer
	// is built.
	TxID []byte
	// Topic is the topic to echo in an ack (empty for unparsed frames and for
	// errors, whose frames carry no topic). It points into the frame.
	Topic []byte
	// Frame is, for ActionStore only, the record to append to the WAL:
	// wal.FrameReserve bytes of room followed by its walpb.Record encoding,
	// ready for wal.Log.EnqueueOwned. DecodeRecord decodes it.
	Frame []byte
	// Reason is the decision table row taken.
	Reason Reason
	// Err explains every outcome except ActionStore, where it is nil.
	Err error
}

// Config configures a Processor. It is independent of the configuration
// file's types: the gateway maps them.
type Config struct {
	// Topics are the configured topics: the keys of `records`.
	Topics []string
	// MaxFrameBytes is the largest accepted frame; 0 means DefaultMaxFrameBytes.
	MaxFrameBytes int
	// RateLimit is the `rate_limit` section.
	RateLimit ratelimit.Config
}

// Validate reports every problem, naming the configuration key.
func (c Config) Validate() error {
	var errs []error
	for _, t := range c.Topics {
		if t == "" {
			errs = append(errs, errors.New("records: empty topic name"))
		}
	}
	if c.MaxFrameBytes < 0 {
		errs = append(errs, fmt.Errorf("max frame bytes: must not be negative, got %d", c.MaxFrameBytes))
	}
	return errors.Join(append(errs, c.RateLimit.Validate())...)
}

// Settings are a Processor's collaborators.
type Settings struct {
	// Logger receives a debug line per frame not stored; nil discards.
	Logger *slog.Logger
	// MeterProvider receives the metrics; nil means no metrics.
	MeterProvider metric.MeterProvider
}

func (s Settings) withDefaults() Settings {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.MeterProvider == nil {
		s.MeterProvider = noop.NewMeterProvider()
	}
	return s
}
