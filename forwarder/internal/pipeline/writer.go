package pipeline

import (
	"context"
	"fmt"
	"time"
)

// write settles the batches from in, one at a time and in order, until in is
// closed or ctx is cancelled; then it returns nil. A non-nil error (a failed
// commit or dead-letter write) stops the partition.
func (p *Pipeline) write(ctx context.Context, in <-chan *batch, com *committer) error {
	wctx, release := p.writeContext(ctx)
	defer release()
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
		if err := p.settle(wctx, b, com); err != nil {
			if wctx.Err() != nil {
				p.log.Warn("shutdown timeout: batch left for the next run", "first", b.first, "last", b.last)
				return nil
			}
			return err
		}
		if len(in) == 0 {
			p.state.setPending(time.Time{}) // caught up with what was read
		}
	}
	return nil
}

// settle delivers b (retrying until every record is accepted or
// dead-lettered), stores its dead letters and hands b.last to the committer.
func (p *Pipeline) settle(ctx context.Context, b *batch, com *committer) error {
	p.state.setPending(b.oldest)
	p.set.Metrics.batch(ctx, p.set.Sink.Name(), len(b.records))
	dead, err := p.deliverer.Deliver(ctx, b.records)
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
