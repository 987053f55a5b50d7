package pubsub

import (
	"context"
	"errors"
	"fmt"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// throttleDelay is the wait asked for when Pub/Sub reports exhausted quota.
const throttleDelay = time.Second

// pending is one published record awaiting its result.
type pending struct {
	i     int
	topic string
	key   string
	res   *gpubsub.PublishResult
}

// Write publishes the batch and waits for every result.
func (s *Sink) Write(ctx context.Context, batch []datastore.Record) error {
	errs := make([]error, len(batch))
	var inflight []pending
	for i, rec := range batch {
		p, err := s.publish(ctx, rec, i)
		if err != nil {
			errs[i] = err
			continue
		}
		inflight = append(inflight, p)
	}
	if err := s.await(ctx, batch, inflight, errs); err != nil {
		return err
	}
	return s.result(ctx, errs)
}

func (s *Sink) publish(ctx context.Context, rec datastore.Record, i int) (pending, error) {
	m, err := s.builder.Build(rec)
	if err != nil {
		return pending{}, err
	}
	pub, err := s.publisher(ctx, m.Destination)
	if err != nil {
		return pending{}, fmt.Errorf("pubsub: record %s: %w", rec.ID(), err)
	}
	attrs := make(map[string]string, len(m.Headers))
	for _, h := range m.Headers {
		attrs[h.Key] = h.Value
	}
	res := pub.Publish(ctx, &gpubsub.Message{Data: m.Value, Attributes: attrs, OrderingKey: m.Key})
	s.metrics.Sent(ctx, 1, len(m.Value))
	return pending{i: i, topic: m.Destination, key: m.Key, res: res}, nil
}

// await fills errs from the publish results and resumes every ordering key
// that failed. It returns an error only if ctx ends first.
func (s *Sink) await(ctx context.Context, batch []datastore.Record, inflight []pending, errs []error) error {
	paused := map[[2]string]bool{}
	defer s.resume(paused)
	for n, p := range inflight {
		_, err := p.res.Get(ctx)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			s.metrics.Failed(ctx, len(inflight)-n)
			return fmt.Errorf("pubsub: %d of %d records unconfirmed: %w", len(inflight)-n, len(batch), ctx.Err())
		}
		if status.Code(err) == codes.NotFound {
			s.forgetTopic(p.topic)
		}
		paused[[2]string{p.topic, p.key}] = true
		errs[p.i] = classify(fmt.Errorf("pubsub: record %s to %s: %w", batch[p.i].ID(), p.topic, err))
	}
	return nil
}

func (s *Sink) resume(paused map[[2]string]bool) {
	for tk := range paused {
		s.mu.Lock()
		p := s.publishers[tk[0]]
		s.mu.Unlock()
		if p != nil {
			p.ResumePublish(tk[1])
		}
	}
}

func (s *Sink) result(ctx context.Context, errs []error) error {
	partial := &datastore.PartialError{}
	for i, err := range errs {
		if err != nil {
			partial.Add(i, err)
		}
	}
	s.metrics.Acked(ctx, len(errs)-len(partial.Failed))
	s.metrics.Failed(ctx, len(partial.Failed))
	return partial.Err()
}

// classify maps gRPC codes to the Sink contract: an invalid message (too
// large, bad attribute) is permanent, exhausted quota is throttling, the
// rest (unavailable, not found, paused ordering key, ...) is transient.
func classify(err error) error {
	var paused gpubsub.ErrPublishingPaused
	if errors.As(err, &paused) {
		return err
	}
	switch status.Code(err) {
	case codes.InvalidArgument:
		return datastore.Permanent(err)
	case codes.ResourceExhausted:
		return datastore.RetryAfter(err, throttleDelay)
	}
	return err
}
