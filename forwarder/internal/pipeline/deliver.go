package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// Deliverer writes records to one sink with the pipeline's rules: transient
// errors are retried forever with capped exponential backoff and jitter,
// throttling waits at least as long as asked, a partial failure retries the
// failed records and the later records of their VINs, and permanent
// rejections are returned to the caller. Pipelines use one each; replay
// commands use it directly.
type Deliverer struct {
	Sink    datastore.Sink
	Retry   config.RetryConfig
	Metrics *Metrics
	Logger  *slog.Logger
	// OnWrite, if set, is called after every Write with the number of
	// records it delivered for good, the number to retry, and its error.
	OnWrite func(delivered, retried int, err error)
}

// Deliver writes recs until the datastore has accepted each of them or
// rejected it permanently, and returns the rejected ones as dead letters.
// It fails only when ctx ends.
func (d *Deliverer) Deliver(ctx context.Context, recs []datastore.Record) ([]DeadLetter, error) {
	start := time.Now()
	return d.complete(ctx, recs, start, d.Sink.Write(ctx, recs))
}

// complete goes on from a first attempt at recs that started at start and
// returned err: it retries what err says was not accepted until nothing is
// left, like Deliver.
func (d *Deliverer) complete(ctx context.Context, recs []datastore.Record, start time.Time, err error) ([]DeadLetter, error) {
	bo := d.newBackoff()
	var dead []DeadLetter
	for {
		if err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("write batch: %w", err)
		}
		o := classify(recs, err)
		d.observe(ctx, start, recs, o, err)
		dead = append(dead, letters(o.dead, err)...)
		recs = o.retry
		if len(recs) == 0 {
			return dead, nil
		}
		if err := sleep(ctx, o.wait(bo)); err != nil {
			return nil, err
		}
		start = time.Now()
		err = d.Sink.Write(ctx, recs)
	}
}

func (d *Deliverer) newBackoff() *backoff.ExponentialBackOff {
	r := d.Retry.WithDefaults()
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     time.Duration(r.InitialIntervalMs) * time.Millisecond,
		RandomizationFactor: *r.Jitter,
		Multiplier:          r.Multiplier,
		MaxInterval:         time.Duration(r.MaxIntervalMs) * time.Millisecond,
	}
	bo.Reset()
	return bo
}

// observe records the outcome of one Write in metrics, status and logs.
func (d *Deliverer) observe(ctx context.Context, start time.Time, recs []datastore.Record, o outcome, err error) {
	sink := d.Sink.Name()
	d.Metrics.delivered(ctx, sink, start, o.delivered)
	if d.OnWrite != nil {
		d.OnWrite(len(o.delivered), len(o.retry), err)
	}
	if err == nil {
		return
	}
	d.Metrics.failed(ctx, sink, o)
	if d.Logger != nil {
		d.Logger.Warn("sink write failed", "error", err, "records", len(recs),
			"retrying", len(o.retry), "resent_for_order", o.followers, "rejected", len(o.dead))
	}
}

// letters turns rejected records into dead letters.
func letters(rejected []rejection, batchErr error) []DeadLetter {
	out := make([]DeadLetter, 0, len(rejected))
	now := time.Now()
	for _, r := range rejected {
		reason := r.err
		if reason == nil {
			reason = batchErr
		}
		data, err := marshal(r.rec)
		if err != nil {
			reason = errors.Join(reason, err)
		}
		out = append(out, DeadLetter{Partition: r.rec.Partition, Index: r.rec.Index, Data: data, Reason: reason.Error(), At: now})
	}
	return out
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
