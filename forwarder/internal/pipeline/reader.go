package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
)

// batch is a contiguous range of WAL indexes [first, last] and the records
// of it that are routed to the sink. Entries of the range that are not in
// records were skipped or could not be decoded (bad).
type batch struct {
	first, last uint64
	records     []datastore.Record
	bytes       int
	// oldest is the append time of the first entry of the range.
	oldest time.Time
	bad    []DeadLetter
}

// scanFactor bounds a batch's range to this many times BatchMaxRecords, so
// that a long run of skipped records still commits the cursor regularly.
const scanFactor = 4

// maxPrealloc caps the records slice allocated up front for a batch.
const maxPrealloc = 1024

// read builds batches from src and sends them to out, which it closes when
// it returns. It returns ctx.Err() when cancelled, or the read error that
// stops the partition; the batch built before that error is sent first.
func (p *Pipeline) read(ctx context.Context, src Source, out chan<- *batch) error {
	defer close(out)
	for {
		b, err := p.fill(ctx, src)
		if b != nil {
			select {
			case out <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err != nil {
			return err
		}
	}
}

// fill reads one batch: it blocks for the first entry, then takes entries
// until a limit is reached or none arrives within the linger time.
func (p *Pipeline) fill(ctx context.Context, src Source) (*batch, error) {
	e, err := src.Next(ctx)
	if err != nil {
		return nil, p.readError(ctx, err)
	}
	b := &batch{first: e.Index, oldest: e.AppendedAt,
		records: make([]datastore.Record, 0, min(p.cfg.BatchMaxRecords, maxPrealloc))}
	p.add(b, e)
	linger, cancel := context.WithTimeout(ctx, p.cfg.BatchLinger)
	defer cancel()
	for !p.full(b) {
		e, err := src.Next(linger)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && linger.Err() != nil && ctx.Err() == nil {
				return b, nil // linger expired: send what we have
			}
			return b, p.readError(ctx, err)
		}
		p.add(b, e)
	}
	return b, nil
}

func (p *Pipeline) full(b *batch) bool {
	return len(b.records) >= p.cfg.BatchMaxRecords || b.bytes >= p.cfg.BatchMaxBytes ||
		b.last-b.first+1 >= uint64(scanFactor*p.cfg.BatchMaxRecords)
}

// add appends entry e to b: decoded and routed, skipped, or marked bad.
func (p *Pipeline) add(b *batch, e Entry) {
	b.last = e.Index
	p.state.setRead(e.Index)
	rec := &walpb.Record{}
	if err := proto.Unmarshal(e.Data, rec); err != nil {
		b.bad = append(b.bad, DeadLetter{
			Partition: p.cfg.Partition, Index: e.Index, Data: append([]byte(nil), e.Data...),
			Reason: fmt.Sprintf("undecodable WAL record: %v", err), At: time.Now(),
		})
		return
	}
	if !p.topics[rec.GetTopic()] {
		return
	}
	b.records = append(b.records, datastore.Record{Partition: p.cfg.Partition, Index: e.Index, WAL: rec})
	b.bytes += len(e.Data)
}

// readError classifies a Source error: cancellation passes through, anything
// else is counted and reported as the reason the partition stops.
func (p *Pipeline) readError(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	reason := "io"
	if errors.Is(err, ErrCorrupt) {
		reason = "corruption"
	}
	p.set.Metrics.readError(p.set.Sink.Name(), p.cfg.Partition, reason)
	return fmt.Errorf("read WAL: %w", err)
}
