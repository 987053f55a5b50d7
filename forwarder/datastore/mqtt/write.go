package mqtt

import (
	"context"
	"errors"
	"fmt"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/shared/record"
)

// sent is one record's publish tokens.
type sent struct {
	tokens []paho.Token
	err    error
}

// Write publishes every record's messages, then waits for all tokens.
func (s *Sink) Write(ctx context.Context, batch []datastore.Record) error {
	if s.isClosed() {
		return datastore.ErrClosed
	}
	// One client for the whole batch: if its connection is lost, the rest
	// of the batch fails instead of going out on the next connection.
	client, err := s.connected(ctx)
	if err != nil {
		s.metrics.Failed(ctx, len(batch))
		return err
	}
	records := make([]sent, len(batch))
	for i, rec := range batch {
		records[i] = s.publish(ctx, client, rec)
	}
	if err := s.await(ctx, records); err != nil {
		return err
	}
	partial := &datastore.PartialError{}
	for i, r := range records {
		if r.err != nil {
			partial.Add(i, fmt.Errorf("mqtt: record %s: %w", batch[i].ID(), r.err))
		}
	}
	s.metrics.Acked(ctx, len(batch)-len(partial.Failed))
	s.metrics.Failed(ctx, len(partial.Failed))
	return partial.Err()
}

func (s *Sink) publish(ctx context.Context, client paho.Client, rec datastore.Record) sent {
	w := rec.WAL
	msg, err := record.Unmarshal(w.GetTopic(), w.GetPayload())
	if err != nil {
		return sent{err: datastore.Permanent(err)}
	}
	pubs, err := publications(s.cfg.TopicBase, w.GetVin(), msg)
	if err != nil {
		return sent{err: datastore.Permanent(err)}
	}
	out := sent{tokens: make([]paho.Token, len(pubs))}
	for j, p := range pubs {
		out.tokens[j] = client.Publish(p.topic, s.cfg.QoS, s.cfg.Retained, p.payload)
		s.metrics.Sent(ctx, 1, len(p.payload))
	}
	return out
}

// await waits for the tokens in publish order. Each token may take up to
// publish_timeout_ms after the previous one completed; once one has timed
// out, the tokens not yet done fail at once. Only an ended ctx is returned.
func (s *Sink) await(ctx context.Context, records []sent) error {
	timeout := ms(s.cfg.PublishTimeoutMs)
	stalled := false
	for i := range records {
		r := &records[i]
		for _, tok := range r.tokens {
			err := wait(ctx, tok, timeout, stalled)
			if ctx.Err() != nil {
				return fmt.Errorf("mqtt: publishes unconfirmed: %w", ctx.Err())
			}
			if errors.Is(err, errTimeout) {
				stalled = true
			}
			if err != nil && r.err == nil {
				r.err = err
			}
		}
	}
	return nil
}

func wait(ctx context.Context, tok paho.Token, timeout time.Duration, stalled bool) error {
	if stalled {
		select {
		case <-tok.Done():
			return tok.Error()
		default:
			return errTimeout
		}
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-t.C:
		return errTimeout
	case <-ctx.Done():
		return ctx.Err()
	}
}

// connected waits up to publish_timeout_ms for the connection to be open,
// so that a Write during an outage fails quickly instead of queueing
// messages in the client, and returns the connection's client.
func (s *Sink) connected(ctx context.Context) (paho.Client, error) {
	deadline := time.Now().Add(ms(s.cfg.PublishTimeoutMs))
	for {
		client := s.current()
		if client.IsConnectionOpen() {
			return client, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("mqtt: not connected to %s", s.cfg.Broker)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("mqtt: not connected to %s: %w", s.cfg.Broker, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
