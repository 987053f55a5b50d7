// Package kafka is the `kafka` sink: every record goes to topic
// "<namespace>_<topic>" with the VIN as key and the reference's metadata
// (plus record_id) as headers, through confluent-kafka-go's idempotent
// producer. Write returns nil only once a delivery report without error has
// arrived for every record; per-record failures come back as a
// *datastore.PartialError, permanent when Kafka rejects the record itself
// (too large, invalid topic name, ...). After a fatal producer error (for
// example the broker lost the idempotence state) the producer is replaced
// before the next Write.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/message"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/sinkmetrics"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// Name is the dispatcher name of this sink.
const Name = "kafka"

// DefaultBatchMaxRecords is the Kafka sink's batch record limit when
// forwarder.batch_max_records is unset (see BatchMaxRecords): fewer Submits,
// delivery-report channels and wake-ups per record than at the general
// default of 500. Draining a 1,000,000-record WAL backlog into kfake
// (BenchmarkDrain, alternating runs on a noisy 2-core machine, medians of 2
// to 6 runs) with batches of 500, 1000, 2000, 4000 and 8000 records gave 74k,
// 91k, 91k, 102k and 89k records/s from one WAL partition and 86k, 95k,
// 103k, 90k and 80k from four: 1000 to 4000 are within the noise of each
// other, 8000 is slower. Memory grows with the batch: with four partitions
// the process peaked about 50 to 100 MB above 500 at 2000, 150 MB above at
// 4000 and 280 MB above at 8000. With prefetch_batches 4, 2000 keeps 8000 records in flight
// per WAL partition, within librdkafka's default queue
// (queue.buffering.max.messages, 100000) for up to 12 partitions.
const DefaultBatchMaxRecords = 2000

// queueFullWait is how long Write waits for deliveries to free room in
// librdkafka's queue before producing again.
const queueFullWait = 5 * time.Millisecond

// Sink produces records to Kafka.
type Sink struct {
	cm      ckafka.ConfigMap
	set     datastore.Settings
	metrics *sinkmetrics.Metrics

	// produceMu lets one Submit produce at a time: the pipelines of several
	// WAL partitions share the sink, and their goroutines contending for
	// librdkafka's locks cost more CPU than queueing here (measured with
	// four partitions: about 30% more records per CPU-second). It also
	// guards enc.
	produceMu sync.Mutex
	enc       *encoder

	mu     sync.Mutex
	prod   *producer
	closed bool
}

// producer is one librdkafka instance and the goroutine draining its
// events.
type producer struct {
	p     *ckafka.Producer
	fatal atomic.Bool
	done  chan struct{}
}

// New returns a Kafka sink for the `kafka` section. It creates the producer
// (which validates the properties) but does not wait for the brokers.
func New(cfg config.KafkaConfig, set datastore.Settings) (*Sink, error) {
	cm, err := configMap(cfg)
	if err != nil {
		return nil, err
	}
	set = set.WithDefaults()
	m, err := sinkmetrics.New(set.MeterProvider, Name)
	if err != nil {
		return nil, err
	}
	s := &Sink{cm: cm, set: set, metrics: m, enc: newEncoder(message.NewBuilder(set))}
	if s.prod, err = s.newProducer(); err != nil {
		return nil, err
	}
	return s, nil
}

// Name returns "kafka".
func (s *Sink) Name() string { return Name }

// BatchMaxRecords returns DefaultBatchMaxRecords, the batch size the
// pipeline uses for this sink when forwarder.batch_max_records is unset
// (datastore.BatchSizer).
func (s *Sink) BatchMaxRecords() int { return DefaultBatchMaxRecords }

func (s *Sink) newProducer() (*producer, error) {
	cm := ckafka.ConfigMap{}
	for k, v := range s.cm {
		cm[k] = v
	}
	p, err := ckafka.NewProducer(&cm)
	if err != nil {
		return nil, datastore.Permanent(fmt.Errorf("kafka: new producer: %w", err))
	}
	pr := &producer{p: p, done: make(chan struct{})}
	go s.drainEvents(pr)
	return pr, nil
}

// drainEvents consumes the producer's event channel (errors and logs; the
// delivery reports go to each Write's own channel) until Close closes it.
func (s *Sink) drainEvents(pr *producer) {
	defer close(pr.done)
	for ev := range pr.p.Events() {
		kerr, ok := ev.(ckafka.Error)
		if !ok {
			continue
		}
		if kerr.IsFatal() {
			pr.fatal.Store(true)
			s.set.Logger.Error("kafka producer fatal error, it will be replaced", "error", kerr)
			continue
		}
		s.set.Logger.Warn("kafka producer error", "error", kerr, "code", kerr.Code().String())
	}
}

// current returns the producer to use, replacing one that hit a fatal
// error.
func (s *Sink) current() (*producer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, datastore.ErrClosed
	}
	if !s.prod.fatal.Load() {
		return s.prod, nil
	}
	old := s.prod
	next, err := s.newProducer()
	if err != nil {
		return nil, err
	}
	s.prod = next
	go discard(old)
	s.set.Logger.Info("kafka producer replaced after a fatal error")
	return next, nil
}

// discard drops whatever a dead producer still holds and closes it; the
// affected Writes have already seen the failures.
func discard(pr *producer) {
	_ = pr.p.Purge(ckafka.PurgeQueue | ckafka.PurgeInFlight | ckafka.PurgeNonBlocking)
	pr.p.Close()
	<-pr.done
}

// Write produces the batch and waits for every delivery report.
func (s *Sink) Write(ctx context.Context, batch []datastore.Record) error {
	return s.Submit(ctx, batch)(ctx)
}

// Pipelines reports whether the producer is idempotent: librdkafka then
// keeps the order of produced records per Kafka partition across its own
// retries, so the pipeline may produce a batch before the previous one is
// confirmed (see Submit).
func (s *Sink) Pipelines() bool {
	v := s.cm["enable.idempotence"]
	return v == true || v == "true"
}

// Submit produces every record of the batch, in order, and returns a
// function that waits for their delivery reports and returns what Write
// returns. Records of a later Submit are produced after these.
func (s *Sink) Submit(ctx context.Context, batch []datastore.Record) (confirm func(context.Context) error) {
	pr, err := s.current()
	if err != nil {
		return func(context.Context) error { return err }
	}
	errs := make([]error, len(batch))
	ch := make(chan ckafka.Event, len(batch))
	pending, size := 0, 0
	s.produceMu.Lock()
	for i, rec := range batch {
		var n int
		if n, errs[i] = s.produce(ctx, pr, rec, i, ch); errs[i] == nil {
			pending++
			size += n
		}
	}
	s.produceMu.Unlock()
	s.metrics.Sent(ctx, pending, size)
	return func(ctx context.Context) error {
		if err := s.await(ctx, pr, ch, pending, batch, errs); err != nil {
			return err
		}
		return s.result(ctx, errs)
	}
}

// produce produces one record and returns the size of its value. The
// caller holds produceMu.
func (s *Sink) produce(ctx context.Context, pr *producer, rec datastore.Record, i int, ch chan ckafka.Event) (int, error) {
	km, err := s.enc.encode(rec, i)
	if err != nil {
		return 0, err
	}
	for {
		err = pr.p.Produce(km, ch)
		if !isQueueFull(err) {
			break
		}
		if werr := sleep(ctx, queueFullWait); werr != nil {
			return 0, werr
		}
	}
	if err != nil {
		if isFatal(err) {
			pr.fatal.Store(true)
		}
		return 0, recordErr(rec, *km.TopicPartition.Topic, classify(err))
	}
	return len(km.Value), nil
}

func isQueueFull(err error) bool {
	var kerr ckafka.Error
	return errors.As(err, &kerr) && kerr.Code() == ckafka.ErrQueueFull
}

// await collects pending delivery reports into errs. It returns an error
// only when ctx ends first: the records still in flight are then
// unconfirmed and the whole batch must be retried.
func (s *Sink) await(ctx context.Context, pr *producer, ch chan ckafka.Event, pending int, batch []datastore.Record, errs []error) error {
	for ; pending > 0; pending-- {
		select {
		case ev := <-ch:
			m, ok := ev.(*ckafka.Message)
			if !ok {
				return fmt.Errorf("kafka: unexpected delivery event %T", ev)
			}
			i := m.Opaque.(int)
			if err := m.TopicPartition.Error; err != nil {
				if isFatal(err) {
					pr.fatal.Store(true)
				}
				errs[i] = recordErr(batch[i], *m.TopicPartition.Topic, classify(err))
			}
		case <-ctx.Done():
			s.metrics.Failed(ctx, pending)
			return fmt.Errorf("kafka: %d of %d records unconfirmed: %w", pending, len(batch), ctx.Err())
		}
	}
	return nil
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

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close waits (within ctx) for messages still queued by abandoned Writes,
// then closes the producer; safe to call twice.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	pr := s.prod
	s.mu.Unlock()
	left := flush(ctx, pr.p)
	pr.p.Close()
	<-pr.done
	if left > 0 {
		return fmt.Errorf("kafka: closed with %d messages unflushed", left)
	}
	return nil
}

func flush(ctx context.Context, p *ckafka.Producer) int {
	for p.Len() > 0 && ctx.Err() == nil {
		p.Flush(100)
	}
	return p.Len()
}
