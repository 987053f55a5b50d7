package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/deadletter"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/ownership"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/status"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/wal"
)

// NewSink builds the sink of one dispatcher name.
type NewSink func(ctx context.Context, name string) (datastore.Sink, error)

// Settings are the service's collaborators.
type Settings struct {
	NewSink       NewSink
	Logger        *slog.Logger
	MeterProvider metric.MeterProvider
}

// Run delivers the WAL at cfg.WAL.Dir to the named sinks until ctx is
// cancelled, then finishes the batches in flight, commits, closes the sinks
// and returns.
func Run(ctx context.Context, cfg *config.Config, sinks []string, set Settings) error {
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.MeterProvider == nil {
		set.MeterProvider = noop.NewMeterProvider()
	}
	meta, err := wal.ReadMeta(cfg.WAL.Dir)
	if err != nil {
		return fmt.Errorf("wal.dir: %w", err)
	}
	metrics, err := pipeline.NewMetrics(set.MeterProvider)
	if err != nil {
		return fmt.Errorf("create metrics: %w", err)
	}
	runners, err := newRunners(ctx, cfg, sinks, meta.Partitions, metrics, set)
	if err != nil {
		return err
	}
	errs := make([]error, len(runners))
	var wg sync.WaitGroup
	for i, r := range runners {
		wg.Go(func() { errs[i] = r.run(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// runner delivers the WAL to one sink.
type runner struct {
	name       string
	cfg        *config.Config
	fc         config.ForwarderConfig
	partitions int
	sink       datastore.Sink
	metrics    *pipeline.Metrics
	log        *slog.Logger // with the sink name
	base       *slog.Logger
	owner      string
}

func newRunners(ctx context.Context, cfg *config.Config, sinks []string, partitions int,
	metrics *pipeline.Metrics, set Settings,
) ([]*runner, error) {
	host, _ := os.Hostname()
	var out []*runner
	for _, name := range sinks {
		sink, err := set.NewSink(ctx, name)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("create sink %s: %w", name, err), closeAll(out))
		}
		out = append(out, &runner{
			name: name, cfg: cfg, fc: cfg.Forwarder.WithDefaults(), partitions: partitions, sink: sink,
			metrics: metrics, log: set.Logger.With("sink", name), base: set.Logger, owner: fmt.Sprintf("%s:%d", host, os.Getpid()),
		})
	}
	return out, nil
}

func closeAll(runners []*runner) error {
	var errs []error
	for _, r := range runners {
		errs = append(errs, r.closeSink())
	}
	return errors.Join(errs...)
}

func (r *runner) closeSink() error {
	ctx, cancel := context.WithTimeout(context.Background(), r.fc.ShutdownTimeout())
	defer cancel()
	if err := r.sink.Close(ctx); err != nil {
		return fmt.Errorf("close sink %s: %w", r.name, err)
	}
	return nil
}

// run shares the partitions with the sink's other processes until ctx ends.
func (r *runner) run(ctx context.Context) error {
	coord, err := ownership.New(ownership.Config{
		Dir: StateDir(r.cfg, r.name), Partitions: r.partitions, Interval: r.fc.PartitionRebalanceInterval(),
		RestartDelay: time.Second, MaxRestartDelay: 30 * time.Second, Logger: r.log,
		OnRelease: func(p int) { r.metrics.Untrack(r.name, p) },
	}, r.work)
	if err != nil {
		return errors.Join(err, r.closeSink())
	}
	r.log.Info("forwarding", "topics", Topics(r.cfg, r.name), "partitions", r.partitions,
		"batch_max_records", r.fc.BatchMaxRecordsFor(datastore.PreferredBatchMaxRecords(r.sink)))
	return errors.Join(coord.Run(ctx), r.closeSink())
}

// work delivers one owned partition until ctx ends.
func (r *runner) work(ctx context.Context, partition int) error {
	cur, err := wal.OpenCursor(r.cfg.WAL.Dir, r.name, partition)
	if err != nil {
		return fmt.Errorf("open cursor: %w", err)
	}
	dl := deadletter.NewWriter(DeadLetterDir(r.cfg, r.name), partition)
	defer dl.Close()
	log := r.log.With("partition", partition)
	pl, err := pipeline.New(pipeline.ConfigFrom(r.fc, r.sink, partition, Topics(r.cfg, r.name)), pipeline.Settings{
		Sink: r.sink, Open: opener(r.cfg.WAL.Dir, partition, log), Cursor: cur, DeadLetters: dl,
		Metrics: r.metrics, Logger: r.base,
	})
	if err != nil {
		return err
	}
	r.metrics.Track(pl, func() (uint64, error) {
		st, err := wal.StatPartition(r.cfg.WAL.Dir, partition)
		return st.LastIndex, err
	})
	stop := r.reportStatus(pl, partition)
	defer stop()
	return pl.Run(ctx)
}

// reportStatus writes pl's status file every status interval, and once more
// when the returned function is called (which also joins the writer).
func (r *runner) reportStatus(pl *pipeline.Pipeline, partition int) (stop func()) {
	dir := StateDir(r.cfg, r.name)
	write := func() {
		if err := status.Write(dir, r.statusOf(pl, partition)); err != nil {
			r.log.Warn("write status file", "partition", partition, "error", err)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.fc.StatusInterval())
		defer t.Stop()
		for {
			write()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		write()
	}
}

func (r *runner) statusOf(pl *pipeline.Pipeline, partition int) status.Partition {
	s := pl.Status()
	return status.Partition{
		Sink: r.name, Partition: partition, Owner: r.owner, Cursor: s.Cursor, ReadIndex: s.ReadIndex,
		Delivered: s.Delivered, Retried: s.Retried, DeadLettered: s.DeadLettered,
		LastError: s.LastError, LastErrorAt: s.LastErrorAt, Stopped: s.Stopped, UpdatedAt: time.Now(),
	}
}
