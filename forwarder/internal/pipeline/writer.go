package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// Submitter is implemented by sinks whose datastore keeps the order in which
// records are handed to it, so that the next batch can be handed over
// before the previous one is confirmed (the Kafka sink with an idempotent
// producer: librdkafka keeps per-partition order across its own retries).
type Submitter interface {
	// Pipelines reports whether Submit may be used with this sink's
	// settings.
	Pipelines() bool
	// Submit hands batch to the datastore. Every record of batch is handed
	// over before Submit returns, after the records of earlier Submits of
	// the same caller. confirm waits for the datastore's answer and returns
	// what Write would have returned for batch.
	Submit(ctx context.Context, batch []datastore.Record) (confirm func(context.Context) error)
}

// write settles the batches from in, in order, until in is closed or ctx is
// cancelled; then it returns nil. A non-nil error (a failed commit or
// dead-letter write) stops the partition. With a Submitter sink up to
// Prefetch batches are in flight at once; otherwise one.
func (p *Pipeline) write(ctx context.Context, in <-chan *batch, com *committer) error {
	wctx, release := p.writeContext(ctx)
	defer release()
	sub, ok := p.set.Sink.(Submitter)
	if !ok || !sub.Pipelines() {
		return p.writeSequential(ctx, wctx, in, com)
	}
	return p.writePipelined(ctx, wctx, sub, in, com)
}

// writeSequential writes each batch only after the previous one settled.
func (p *Pipeline) writeSequential(ctx, wctx context.Context, in <-chan *batch, com *committer) error {
	for ctx.Err() == nil { // checked first: select picks among ready cases at random
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
		if err := com.failed(); err != nil {
			return nil // reported by the committer
		}
		p.state.setPending(b.oldest)
		p.started(wctx, b)
		if err := p.settle(wctx, b, com, p.deliverer.Deliver); err != nil {
			return p.writeFailed(wctx, b, err)
		}
		if len(in) == 0 {
			p.state.setPending(time.Time{}) // caught up with what was read
		}
	}
	return nil
}

// attempt is a batch handed to a Submitter and not settled yet.
type attempt struct {
	b     *batch
	start time.Time
	done  chan error // the confirmation's result
}

// writePipelined hands batches to sub without waiting for the previous
// confirmation, and settles them in order as their confirmations arrive.
//
// When a batch is not confirmed whole, the batches handed over after it may
// hold later records of its VINs that the datastore already took. So the
// writer stops handing over, waits for every attempt in flight, retries the
// failed batch as Deliver does (its failed records and the later records of
// the same VINs), and then sends every later batch in flight again, whole,
// one at a time and in order, whatever its own confirmation said. The last
// delivery of every record of a VIN is therefore in WAL order, and a batch
// is settled (and its last index handed to the committer) only after every
// batch before it, so the cursor stays the contiguous confirmed prefix.
func (p *Pipeline) writePipelined(ctx, wctx context.Context, sub Submitter, in <-chan *batch, com *committer) error {
	var flight []*attempt
	reading := true
	for {
		if ctx.Err() != nil || com.failed() != nil {
			reading = false // settle what is in flight, take nothing new
		}
		if !reading && len(flight) == 0 {
			return nil
		}
		var recv <-chan *batch
		var stop <-chan struct{}
		if reading {
			stop = ctx.Done()
			if len(flight) < p.cfg.Prefetch {
				recv = in
			}
		}
		var head chan error
		if len(flight) > 0 {
			head = flight[0].done
		}
		select {
		case b, ok := <-recv:
			if !ok {
				reading = false
				continue
			}
			p.started(wctx, b)
			a := &attempt{b: b, start: time.Now(), done: make(chan error, 1)}
			confirm := sub.Submit(wctx, b.records)
			go func() { a.done <- confirm(wctx) }()
			flight = append(flight, a)
		case err := <-head:
			if err != nil && wctx.Err() == nil {
				if err := p.recoverFlight(wctx, flight, err, com); err != nil || wctx.Err() != nil {
					return err
				}
				flight = nil
			} else {
				a := flight[0]
				first := func(ctx context.Context, recs []datastore.Record) ([]DeadLetter, error) {
					return p.deliverer.complete(ctx, recs, a.start, err)
				}
				if err := p.settle(wctx, a.b, com, first); err != nil {
					return p.writeFailed(wctx, a.b, err)
				}
				flight = flight[1:]
			}
		case <-stop:
		}
		switch {
		case len(flight) > 0:
			p.state.setPending(flight[0].b.oldest)
		case len(in) == 0:
			p.state.setPending(time.Time{}) // caught up with what was read
		}
	}
}

// recoverFlight handles a head attempt that failed with err: it waits for
// every later attempt, completes the head's delivery, then sends the later
// batches again, whole and in order. It returns nil also when the shutdown
// timeout ended it (wctx is then done).
func (p *Pipeline) recoverFlight(wctx context.Context, flight []*attempt, err error, com *committer) error {
	later := flight[1:]
	resent := 0
	for _, a := range later {
		<-a.done // the result does not matter: the batch is sent again below
		resent += len(a.b.records)
	}
	if len(later) > 0 {
		p.log.Warn("batch failed while later batches were in flight: sending them again in order",
			"error", err, "batches", len(later), "records", resent)
		p.set.Metrics.resent(wctx, p.set.Sink.Name(), resent)
		p.state.addRetried(resent)
	}
	head := flight[0]
	first := func(ctx context.Context, recs []datastore.Record) ([]DeadLetter, error) {
		return p.deliverer.complete(ctx, recs, head.start, err)
	}
	if err := p.settle(wctx, head.b, com, first); err != nil {
		return p.writeFailed(wctx, head.b, err)
	}
	for _, a := range later {
		p.state.setPending(a.b.oldest)
		if err := p.settle(wctx, a.b, com, p.deliverer.Deliver); err != nil {
			return p.writeFailed(wctx, a.b, err)
		}
	}
	return nil
}

// writeFailed turns a settle error into write's result: the end of the
// shutdown timeout leaves the batch for the next run.
func (p *Pipeline) writeFailed(wctx context.Context, b *batch, err error) error {
	if wctx.Err() != nil {
		p.log.Warn("shutdown timeout: batch left for the next run", "first", b.first, "last", b.last)
		return nil
	}
	return err
}

// started counts b as a batch written.
func (p *Pipeline) started(ctx context.Context, b *batch) {
	p.set.Metrics.batch(ctx, p.set.Sink.Name(), len(b.records))
}

// deliverFunc delivers records until each is accepted or rejected.
type deliverFunc func(ctx context.Context, recs []datastore.Record) ([]DeadLetter, error)

// settle delivers b with deliver (retrying until every record is accepted
// or dead-lettered), stores its dead letters and hands b.last to the
// committer.
func (p *Pipeline) settle(ctx context.Context, b *batch, com *committer, deliver deliverFunc) error {
	dead, err := deliver(ctx, b.records)
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
	com.settle(b.last)
	return nil
}

func (p *Pipeline) deadLettered(ctx context.Context, dead []DeadLetter) {
	p.state.addDeadLettered(len(dead))
	p.set.Metrics.deadLettered(ctx, p.set.Sink.Name(), len(dead))
	for _, d := range dead {
		p.log.Error("record dead-lettered", "index", d.Index, "reason", d.Reason)
	}
}

// onWrite keeps the status up to date after each Write.
func (p *Pipeline) onWrite(delivered, retried int, err error) {
	p.state.addDelivered(delivered)
	if err != nil {
		p.state.addRetried(retried)
		p.state.setError(err)
	}
}
