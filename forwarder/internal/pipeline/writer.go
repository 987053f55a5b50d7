package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// write settles the batches from in, one at a time and in order, until in is
// closed or ctx is cancelled; then it returns nil. A non-nil error (a failed
// commit or dead-letter write) stops the partition.
func (p *Pipeline) write(ctx context.Context, in <-chan *batch) error {
	wctx, release := p.writeContext(ctx)
	defer release()
	for {
		var b *batch
		var ok bool
		select {
		case b, ok = <-in:
		case <-ctx.Done():
			return nil
		}
		if !ok {
			return nil
		}
		if err := p.settle(wctx, b); err != nil {
			if wctx.Err() != nil {
				p.log.Warn("shutdown timeout: batch left for the next run", "first", b.first, "last", b.last)
				return nil
			}
			return err
		}
	}
}

// settle delivers b (retrying until every record is accepted or
// dead-lettered), stores its dead letters and commits the cursor to b.last.
func (p *Pipeline) settle(ctx context.Context, b *batch) error {
	p.state.setPending(b.oldest)
	p.set.Metrics.batch(ctx, p.set.Sink.Name(), len(b.records))
	dead, err := p.deliver(ctx, b.records)
	if err != nil {
		return err
	}
	dead = append(b.bad, dead...)
	if len(dead) > 0 {
		if err := p.set.DeadLetters.Put(ctx, dead); err != nil {
			return fmt.Errorf("store %d dead letters: %w", len(dead), err)
		}
		p.deadLettered(ctx, dead)
	}
	if err := p.set.Cursor.Commit(b.last); err != nil {
		return fmt.Errorf("commit cursor %d: %w", b.last, err)
	}
	p.state.setCursor(b.last)
	return nil
}

// deliver writes recs until the datastore has accepted each of them or
// rejected it permanently; it returns the rejected ones. It only fails when
// ctx ends.
func (p *Pipeline) deliver(ctx context.Context, recs []datastore.Record) ([]DeadLetter, error) {
	bo := p.newBackoff()
	var dead []DeadLetter
	for len(recs) > 0 {
		start := time.Now()
		err := p.set.Sink.Write(ctx, recs)
		if err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("write batch: %w", err)
		}
		o := classify(recs, err)
		p.observe(ctx, start, recs, o, err)
		dead = append(dead, p.letters(o.dead, err)...)
		recs = o.retry
		if len(recs) == 0 {
			break
		}
		if err := sleep(ctx, o.wait(bo)); err != nil {
			return nil, err
		}
	}
	return dead, nil
}

func (p *Pipeline) newBackoff() *backoff.ExponentialBackOff {
	r := p.cfg.Retry.WithDefaults()
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     time.Duration(r.InitialIntervalMs) * time.Millisecond,
		RandomizationFactor: *r.Jitter,
		Multiplier:          r.Multiplier,
		MaxInterval:         time.Duration(r.MaxIntervalMs) * time.Millisecond,
	}
	bo.Reset()
	return bo
}

// letters turns rejected records into dead letters.
func (p *Pipeline) letters(rejected []rejection, batchErr error) []DeadLetter {
	out := make([]DeadLetter, 0, len(rejected))
	now := time.Now()
	for _, r := range rejected {
		data, err := marshal(r.rec)
		if err != nil {
			data = nil
		}
		reason := r.err
		if reason == nil {
			reason = batchErr
		}
		out = append(out, DeadLetter{Partition: r.rec.Partition, Index: r.rec.Index, Data: data, Reason: reason.Error(), At: now})
	}
	return out
}

// observe records the outcome of one Write in metrics, status and logs.
func (p *Pipeline) observe(ctx context.Context, start time.Time, recs []datastore.Record, o outcome, err error) {
	sink := p.set.Sink.Name()
	p.set.Metrics.delivered(ctx, sink, start, o.delivered)
	p.state.addDelivered(len(o.delivered))
	if err == nil {
		return
	}
	p.set.Metrics.failed(ctx, sink, o)
	p.state.addRetried(len(o.retry))
	p.state.setError(err)
	p.log.Warn("sink write failed", "error", err, "records", len(recs),
		"retrying", len(o.retry), "resent_for_order", o.followers, "rejected", len(o.dead))
}

func (p *Pipeline) deadLettered(ctx context.Context, dead []DeadLetter) {
	p.state.addDeadLettered(len(dead))
	p.set.Metrics.deadLettered(ctx, p.set.Sink.Name(), len(dead))
	for _, d := range dead {
		p.log.Error("record dead-lettered", "index", d.Index, "reason", d.Reason)
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait before retry: %w", context.Cause(ctx))
	}
}

var errInvalidPartial = errors.New("sink returned a partial error with invalid indexes")
