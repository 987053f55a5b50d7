package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/deadletter"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// Entry is one WAL entry as the pipeline reads it. Data is valid until the
// next call to Source.Next.
type Entry struct {
	Index      uint64
	AppendedAt time.Time
	Data       []byte
}

// Source yields the entries of one partition in index order, blocking until
// the next one is complete. It returns ctx.Err() when ctx ends; any other
// error stops the partition.
type Source interface {
	Next(ctx context.Context) (Entry, error)
	Close() error
}

// ErrCorrupt is what a Source's error wraps when the WAL entry it reached is
// damaged. The pipeline reports such errors with reason "corruption".
var ErrCorrupt = errors.New("corrupt WAL entry")

// OpenSource opens a Source positioned after the given index.
type OpenSource func(after uint64) (Source, error)

// Cursor is the durable position of one (sink, partition).
type Cursor interface {
	Load() (uint64, error)
	Commit(index uint64) error
}

// DeadLetter is a record the datastore rejected permanently, as the
// dead-letter store keeps it.
type DeadLetter = deadletter.Letter

// DeadLetters stores dead letters durably: when Put returns nil they survive
// a crash.
type DeadLetters interface {
	Put(ctx context.Context, letters []DeadLetter) error
}

// Config is what one pipeline delivers and how.
type Config struct {
	Partition int
	// Topics are the record topics routed to the sink by `records`; records
	// of other topics are skipped (and still advance the cursor).
	Topics []string
	// BatchMaxRecords, BatchMaxBytes, BatchLinger, Prefetch, Retry and
	// ShutdownTimeout come from the `forwarder` section; BatchMaxRecords is
	// the sink's own default when forwarder.batch_max_records is unset.
	BatchMaxRecords int
	BatchMaxBytes   int
	BatchLinger     time.Duration
	// Prefetch is how many batches are read ahead of the writer, and how
	// many batches a Submitter sink may have in flight.
	Prefetch        int
	Retry           config.RetryConfig
	ShutdownTimeout time.Duration
}

// ConfigFrom builds a pipeline Config for one partition of sink from the
// forwarder section (defaults applied: the batch record limit is the sink's
// own when the section does not set one, see datastore.BatchSizer) and the
// topics routed to the sink.
func ConfigFrom(fc config.ForwarderConfig, sink datastore.Sink, partition int, topics []string) Config {
	fc = fc.WithDefaults()
	return Config{
		Partition:       partition,
		Topics:          topics,
		BatchMaxRecords: fc.BatchMaxRecordsFor(datastore.PreferredBatchMaxRecords(sink)),
		BatchMaxBytes:   fc.BatchMaxBytes,
		BatchLinger:     fc.BatchLinger(),
		Prefetch:        fc.PrefetchBatches,
		Retry:           fc.Retry,
		ShutdownTimeout: fc.ShutdownTimeout(),
	}
}

// Settings are the pipeline's collaborators.
type Settings struct {
	Sink        datastore.Sink
	Open        OpenSource
	Cursor      Cursor
	DeadLetters DeadLetters
	// Metrics may be shared by every pipeline of a process; nil records none.
	Metrics *Metrics
	Logger  *slog.Logger
}

// Pipeline delivers one partition to one sink. Run it once.
type Pipeline struct {
	cfg       Config
	set       Settings
	topics    map[string]bool
	state     *state
	log       *slog.Logger
	deliverer *Deliverer
}

// New checks cfg and set and returns a pipeline ready to Run.
func New(cfg Config, set Settings) (*Pipeline, error) {
	if set.Sink == nil || set.Open == nil || set.Cursor == nil || set.DeadLetters == nil {
		return nil, errors.New("pipeline: sink, source, cursor and dead letters are required")
	}
	if cfg.BatchMaxRecords < 1 || cfg.BatchMaxBytes < 1 || cfg.Prefetch < 1 {
		return nil, fmt.Errorf("pipeline: batch limits and prefetch must be positive: %+v", cfg)
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	topics := make(map[string]bool, len(cfg.Topics))
	for _, t := range cfg.Topics {
		topics[t] = true
	}
	log := set.Logger.With("sink", set.Sink.Name(), "partition", cfg.Partition)
	p := &Pipeline{cfg: cfg, set: set, topics: topics, state: newState(), log: log}
	p.deliverer = &Deliverer{Sink: set.Sink, Retry: cfg.Retry, Metrics: set.Metrics, Logger: log, OnWrite: p.onWrite}
	return p, nil
}

// Run delivers until ctx is cancelled (then it returns nil after finishing
// the batch in flight) or until an error stops the partition.
func (p *Pipeline) Run(ctx context.Context) error {
	after, err := p.set.Cursor.Load()
	if err != nil {
		return p.stop(fmt.Errorf("load cursor: %w", err))
	}
	p.state.setCursor(after)
	src, err := p.set.Open(after)
	if err != nil {
		return p.stop(fmt.Errorf("open partition after %d: %w", after, err))
	}
	defer src.Close()
	p.log.Info("partition delivery started", "after", after)
	return p.run(ctx, src, after)
}

func (p *Pipeline) run(ctx context.Context, src Source, after uint64) error {
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	batches := make(chan *batch, p.cfg.Prefetch)
	com := newCommitter(p.set.Cursor, p.state, after)
	writerDone := make(chan struct{})
	var readErr, commitErr error
	var wg sync.WaitGroup
	wg.Go(func() { readErr = p.read(readCtx, src, batches) })
	wg.Go(func() {
		if commitErr = com.run(writerDone); commitErr != nil {
			stopReading()
		}
	})
	writeErr := p.write(ctx, batches, com)
	close(writerDone)
	stopReading()
	for range batches { // unblock the reader if the writer stopped early
	}
	wg.Wait()
	if err := errors.Join(writeErr, commitErr); err != nil {
		return p.stop(err)
	}
	if readErr != nil && ctx.Err() == nil {
		return p.stop(readErr)
	}
	p.log.Info("partition delivery stopped", "cursor", p.state.snapshot().Cursor)
	return nil
}

// stop records err as the reason delivery stopped.
func (p *Pipeline) stop(err error) error {
	err = fmt.Errorf("%s partition %d: %w", p.set.Sink.Name(), p.cfg.Partition, err)
	p.state.setStopped(err)
	p.log.Error("partition delivery stopped on error", "error", err)
	return err
}

// Status returns a snapshot of the pipeline's progress.
func (p *Pipeline) Status() Status { return p.state.snapshot() }

// writeContext returns the context for sink writes: it outlives ctx by the
// shutdown timeout so that the batch in flight can finish.
func (p *Pipeline) writeContext(ctx context.Context) (context.Context, func()) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var timer *time.Timer
	stopAfter := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(p.cfg.ShutdownTimeout, cancel)
	})
	return wctx, func() {
		stopAfter()
		mu.Lock()
		defer mu.Unlock()
		if timer != nil {
			timer.Stop()
		}
		cancel()
	}
}
