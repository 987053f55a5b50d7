package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/sinktest"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
)

// memLog is an in-memory partition: Append adds entries, sources opened on
// it block in Next until an entry arrives. failAt makes Next fail on that
// index with err.
type memLog struct {
	mu      sync.Mutex
	entries []pipeline.Entry
	grew    chan struct{}
	failAt  uint64
	failErr error
}

func newMemLog() *memLog { return &memLog{grew: make(chan struct{})} }

func (l *memLog) append(data []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, pipeline.Entry{Index: uint64(len(l.entries) + 1), AppendedAt: time.Now(), Data: data})
	close(l.grew)
	l.grew = make(chan struct{})
}

func (l *memLog) appendRecords(recs ...*walpb.Record) {
	for _, r := range recs {
		b, err := proto.Marshal(r)
		if err != nil {
			panic(err)
		}
		l.append(b)
	}
}

func (l *memLog) open(after uint64) (pipeline.Source, error) {
	return &memSource{log: l, next: after + 1}, nil
}

type memSource struct {
	log  *memLog
	next uint64
}

func (s *memSource) Next(ctx context.Context) (pipeline.Entry, error) {
	for {
		s.log.mu.Lock()
		if s.log.failErr != nil && s.next == s.log.failAt {
			s.log.mu.Unlock()
			return pipeline.Entry{}, s.log.failErr
		}
		if s.next <= uint64(len(s.log.entries)) {
			e := s.log.entries[s.next-1]
			s.log.mu.Unlock()
			s.next++
			return e, nil
		}
		grew := s.log.grew
		s.log.mu.Unlock()
		select {
		case <-grew:
		case <-ctx.Done():
			return pipeline.Entry{}, ctx.Err()
		}
	}
}

func (s *memSource) Close() error { return nil }

// memCursor records every commit; check, if set, runs before each commit
// and may veto it.
type memCursor struct {
	mu      sync.Mutex
	index   uint64
	commits []uint64
	check   func(index uint64) error
}

func (c *memCursor) Load() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.index, nil
}

func (c *memCursor) Commit(index uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.check != nil {
		if err := c.check(index); err != nil {
			return err
		}
	}
	if index < c.index {
		return fmt.Errorf("cursor backwards: %d < %d", index, c.index)
	}
	c.index = index
	c.commits = append(c.commits, index)
	return nil
}

func (c *memCursor) get() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.index
}

type memDeadLetters struct {
	mu      sync.Mutex
	letters []pipeline.DeadLetter
}

func (d *memDeadLetters) Put(_ context.Context, l []pipeline.DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.letters = append(d.letters, l...)
	return nil
}

func (d *memDeadLetters) all() []pipeline.DeadLetter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]pipeline.DeadLetter(nil), d.letters...)
}

func rec(vin, topic string, seq int) *walpb.Record {
	return &walpb.Record{Vin: vin, Topic: topic, Txid: []byte(fmt.Sprintf("%s-%d", vin, seq)),
		ReceivedAtMs: time.Now().UnixMilli(), Payload: []byte{byte(seq)}}
}

// orderedSink is a fake pipeline.Submitter that models a datastore keeping
// submission order (Kafka with an idempotent producer): Submit decides the
// outcome of the batch with the script and lands the accepted records at
// once, in submission order; the confirmation arrives delay later. So a
// later batch can land while an earlier one is still unconfirmed, and the
// earlier one can then fail.
type orderedSink struct {
	script sinktest.Script
	delay  time.Duration

	mu          sync.Mutex
	calls       int
	accepted    []datastore.Record
	confirmed   []datastore.Record
	inFlight    int
	maxInFlight int
}

func newOrderedSink(script sinktest.Script, delay time.Duration) *orderedSink {
	return &orderedSink{script: script, delay: delay}
}

func (s *orderedSink) Name() string                { return "kafka" }
func (s *orderedSink) Pipelines() bool             { return true }
func (s *orderedSink) Close(context.Context) error { return nil }

func (s *orderedSink) Write(ctx context.Context, batch []datastore.Record) error {
	return s.Submit(ctx, batch)(ctx)
}

func (s *orderedSink) Submit(_ context.Context, batch []datastore.Record) func(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	var err error
	if s.script != nil {
		err = s.script(s.calls, batch)
	}
	landed := acceptedBy(batch, err)
	s.accepted = append(s.accepted, landed...)
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	return func(ctx context.Context) error {
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		t := time.NewTimer(s.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("confirm: %w", ctx.Err())
		}
		s.mu.Lock()
		s.confirmed = append(s.confirmed, landed...)
		s.mu.Unlock()
		return err
	}
}

// acceptedBy returns the records of batch that err says were accepted.
func acceptedBy(batch []datastore.Record, err error) []datastore.Record {
	var pe *datastore.PartialError
	switch {
	case err == nil:
		return batch
	case errors.As(err, &pe):
		failed := map[int]bool{}
		for _, i := range pe.Failed {
			failed[i] = true
		}
		var out []datastore.Record
		for i, r := range batch {
			if !failed[i] {
				out = append(out, r)
			}
		}
		return out
	}
	return nil
}

// Accepted returns the records in the order they landed.
func (s *orderedSink) Accepted() []datastore.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]datastore.Record(nil), s.accepted...)
}

// Confirmed returns the records whose acceptance was confirmed to the
// pipeline.
func (s *orderedSink) Confirmed() []datastore.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]datastore.Record(nil), s.confirmed...)
}

func (s *orderedSink) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// MaxInFlight returns the most batches submitted and not yet confirmed at
// one time.
func (s *orderedSink) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}
