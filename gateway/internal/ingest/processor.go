package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"
	"github.com/fleetrelay/fleetrelay/protos/envelope"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/record"
)

// Processor turns vehicle frames into decisions and WAL records. It holds
// no per-connection state and is safe for concurrent use by all connections.
type Processor struct {
	topics   map[string]string // configured topic -> the same string, interned
	maxFrame int
	limiter  *ratelimit.Limiter
	log      *slog.Logger
	metrics  *processorMetrics
}

// NewProcessor validates cfg and returns a Processor.
func NewProcessor(cfg Config, set Settings) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	set = set.withDefaults()
	limiter, err := ratelimit.New(cfg.RateLimit, ratelimit.Settings{MeterProvider: set.MeterProvider})
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	p := &Processor{
		topics:   make(map[string]string, len(cfg.Topics)),
		maxFrame: cfg.MaxFrameBytes,
		limiter:  limiter,
		log:      set.Logger,
	}
	if p.maxFrame == 0 {
		p.maxFrame = DefaultMaxFrameBytes
	}
	for _, t := range cfg.Topics {
		p.topics[t] = t
	}
	if p.metrics, err = newProcessorMetrics(set.MeterProvider, cfg.Topics); err != nil {
		return nil, err
	}
	return p, nil
}

// Process decides what to do with one binary frame from the vehicle on
// connection c, received at now. It follows the package's decision table.
// The frame is not modified or retained, except that Result.TxID and
// Result.Topic may point into it.
func (p *Processor) Process(frame []byte, c *Conn, now time.Time) Result {
	res := p.decide(frame, c, now)
	p.metrics.observe(&res)
	if res.Action != ActionStore && p.log.Enabled(context.Background(), slog.LevelDebug) {
		p.log.LogAttrs(context.Background(), slog.LevelDebug, "frame_not_stored",
			slog.String("vin", c.VIN), slog.String("connection_id", c.ConnectionID),
			slog.String("action", res.Action.String()), slog.String("reason", string(res.Reason)),
			slog.String("txid", string(res.TxID)), slog.Any("error", res.Err))
	}
	return res
}

// decide walks the decision table.
func (p *Processor) decide(frame []byte, c *Conn, now time.Time) Result {
	if !p.limiter.Allow(c.VIN, now) {
		return Result{Action: ActionDrop, Reason: ReasonRateLimited, Err: ErrRateLimited}
	}
	if len(frame) > p.maxFrame {
		err := fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooBig, len(frame), p.maxFrame)
		return Result{Action: ActionError, Reason: ReasonTooBig, Err: err}
	}
	var env envelope.Envelope
	if err := envelope.Decode(frame, &env); err != nil {
		return notStream(&env, err)
	}
	topic, configured := p.topics[string(env.Topic)]
	if !configured {
		return unconfigured(&env, c)
	}
	return p.store(&env, topic, c, now)
}

// notStream answers a frame that is not a stream envelope: an ack (with the
// txid when the envelope parsed) for empty and non-stream envelopes, an
// error without txid for anything else.
func notStream(env *envelope.Envelope, err error) Result {
	switch {
	case errors.Is(err, envelope.ErrEmpty):
		return Result{Action: ActionAck, Reason: ReasonEmpty, Err: err}
	case errors.Is(err, envelope.ErrNotStream):
		return Result{Action: ActionAck, TxID: env.TxID, Reason: ReasonNotStream,
			Err: fmt.Errorf("message type %d: %w", env.Type, err)}
	default:
		return Result{Action: ActionError, Reason: ReasonMalformed, Err: err}
	}
}

// unconfigured answers a stream whose topic is not in `records`: an error
// when its sender_id is another vehicle's, else an ack echoing the topic. A
// known record type must still decode, as in the reference.
func unconfigured(env *envelope.Envelope, c *Conn) Result {
	if !senderMatches(env.Stream.SenderID, c) {
		err := fmt.Errorf("%w: topic %q", ErrSenderMismatch, env.Topic)
		return Result{Action: ActionError, TxID: env.TxID, Reason: ReasonSenderMismatch, Err: err}
	}
	if topic := string(env.Topic); record.Known(topic) {
		if _, err := record.Normalize(topic, env.Stream.Payload, c.VIN); err != nil {
			return Result{Action: ActionError, TxID: env.TxID, Reason: ReasonBadPayload, Err: err}
		}
	}
	err := fmt.Errorf("%w: %q", ErrTopicNotConfigured, env.Topic)
	return Result{Action: ActionAck, TxID: env.TxID, Topic: env.Topic, Reason: ReasonUnconfiguredTopic, Err: err}
}

// senderMatches reports whether sender is "<client type>.<VIN>" or the VIN
// of the connection, the reference's SenderID and DeviceID.
func senderMatches(sender []byte, c *Conn) bool {
	if string(sender) == c.VIN {
		return true
	}
	n := len(c.ClientType)
	return len(sender) == n+1+len(c.VIN) &&
		string(sender[:n]) == c.ClientType && sender[n] == '.' && string(sender[n+1:]) == c.VIN
}

// store builds the WAL record of a configured topic, or an error answer
// when its payload is not the topic's message.
func (p *Processor) store(env *envelope.Envelope, topic string, c *Conn, now time.Time) Result {
	r := walRecord{vin: validUTF8(c.VIN), topic: topic, txid: env.TxID, receivedMs: now.UnixMilli()}
	frame, txid, payloadLen, err := r.encode(env.Stream.Payload, validConnStrings(c))
	if err != nil {
		return Result{Action: ActionError, TxID: env.TxID, Reason: ReasonBadPayload, Err: err}
	}
	p.metrics.stored(topic, payloadLen)
	return Result{Action: ActionStore, TxID: txid, Topic: env.Topic, Frame: frame, Reason: ReasonStored}
}

// payloadSlack is room for a normalized payload to grow beyond the vehicle's
// payload plus the VIN (a scientific-notation value written out in full), so
// that the buffer is rarely reallocated.
const payloadSlack = 16

// newRecord returns a WAL record with the connection's metadata, without
// payload. Invalid UTF-8 in the connection's strings, which come from
// request headers, is replaced so that the record always encodes.
func newRecord(c *Conn, topic string, txid []byte, now time.Time) *walpb.Record {
	return &walpb.Record{
		Vin:                 validUTF8(c.VIN),
		Topic:               topic,
		Txid:                txid,
		ReceivedAtMs:        now.UnixMilli(),
		DeviceClientVersion: validUTF8(c.DeviceClientVersion),
		NetworkInterface:    validUTF8(c.NetworkInterface),
		ConnectionId:        validUTF8(c.ConnectionID),
		ClientType:          validUTF8(c.ClientType),
	}
}

// validUTF8 returns s with invalid UTF-8 replaced by U+FFFD; valid strings
// are returned as they are, without copying.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
