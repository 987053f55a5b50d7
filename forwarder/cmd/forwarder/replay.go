package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/service"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/wal"
)

// replayOpts selects the WAL entries `forwarder replay` re-delivers.
type replayOpts struct {
	config, sink   string
	partition      int
	from, to       uint64
	since, until   string
	vins, topics   listFlag
	sinceT, untilT time.Time
}

func (o *replayOpts) validate() error {
	if (o.from > 0 || o.to > 0) && o.partition < 0 {
		return usageErrorf("-from and -to are indexes of one partition: give -partition")
	}
	if (o.from > 0 || o.to > 0) && (o.since != "" || o.until != "") {
		return usageErrorf("use -from/-to or -since/-until, not both")
	}
	if o.to > 0 && o.to < o.from {
		return usageErrorf("-to %d is below -from %d", o.to, o.from)
	}
	var err1, err2 error
	o.sinceT, err1 = parseTime("since", o.since)
	o.untilT, err2 = parseTime("until", o.until)
	return errors.Join(err1, err2)
}

func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, usageErrorf("-%s %q: want RFC 3339, e.g. 2026-11-23T14:00:00Z", name, v)
	}
	return t, nil
}

// match reports whether rec is selected by the VIN, topic and time filters.
func (o *replayOpts) match(rec *walpb.Record, topics map[string]bool) bool {
	if !topics[rec.GetTopic()] || (len(o.vins) > 0 && !contains(o.vins, rec.GetVin())) {
		return false
	}
	at := time.UnixMilli(rec.GetReceivedAtMs())
	return (o.sinceT.IsZero() || !at.Before(o.sinceT)) && (o.untilT.IsZero() || at.Before(o.untilT))
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// runReplay is `forwarder replay`: re-deliver a WAL range to one sink
// without moving its cursor.
func runReplay(ctx context.Context, args []string, e env) error {
	o := replayOpts{}
	fs := newFlagSet("replay", e.stderr)
	fs.StringVar(&o.config, "config", "config.json", "configuration file")
	fs.StringVar(&o.sink, "sink", "", "sink to deliver to")
	fs.IntVar(&o.partition, "partition", -1, "WAL partition (default: all)")
	fs.Uint64Var(&o.from, "from", 0, "first WAL index (with -partition)")
	fs.Uint64Var(&o.to, "to", 0, "last WAL index (with -partition)")
	fs.StringVar(&o.since, "since", "", "only records received at or after this RFC 3339 time")
	fs.StringVar(&o.until, "until", "", "only records received before this RFC 3339 time")
	fs.Var(&o.vins, "vin", "only these VINs (comma-separated)")
	fs.Var(&o.topics, "topic", "only these topics (default: those routed to the sink)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	cfg, err := loadConfig(o.config, e.stderr)
	if err != nil {
		return err
	}
	if err := oneSink(cfg, o.sink); err != nil {
		return err
	}
	return replayWAL(ctx, cfg, &o, e)
}

// replayer holds one replay's state.
type replayer struct {
	cfg    *config.Config
	o      *replayOpts
	topics map[string]bool
	d      *pipeline.Deliverer
	prog   progress
	sum    summary
	batch  []datastore.Record
	bytes  int
	limits config.ForwarderConfig
}

func replayWAL(ctx context.Context, cfg *config.Config, o *replayOpts, e env) error {
	meta, err := wal.ReadMeta(cfg.WAL.Dir)
	if err != nil {
		return fmt.Errorf("wal.dir: %w", err)
	}
	parts, err := partitionsOf(o.partition, meta.Partitions)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sink, err := e.sinks(cfg, log, noop.NewMeterProvider())(ctx, o.sink)
	if err != nil {
		return fmt.Errorf("create sink %s: %w", o.sink, err)
	}
	defer closeSink(sink, log)
	r := newReplayer(cfg, o, sink, log)
	total, err := r.planned(parts)
	if err != nil {
		return err
	}
	r.prog = newProgress(e.stderr, "replay "+o.sink, total)
	err = r.run(ctx, parts)
	r.prog.finish()
	r.sum.print(e.stdout, "replay", o.sink, parts)
	return r.sum.result(err)
}

func newReplayer(cfg *config.Config, o *replayOpts, sink datastore.Sink, log *slog.Logger) *replayer {
	names := []string(o.topics)
	if len(names) == 0 {
		names = service.Topics(cfg, o.sink)
	}
	topics := map[string]bool{}
	for _, t := range names {
		topics[t] = true
	}
	fc := cfg.Forwarder.WithDefaults()
	fc.BatchMaxRecords = fc.BatchMaxRecordsFor(datastore.PreferredBatchMaxRecords(sink))
	return &replayer{cfg: cfg, o: o, topics: topics, limits: fc, sum: summary{start: time.Now()},
		d: &pipeline.Deliverer{Sink: sink, Retry: fc.Retry, Logger: log}}
}

func closeSink(s datastore.Sink, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		log.Warn("close sink", "error", err)
	}
}

// planned returns how many entries the replay will scan, for the progress
// bar.
func (r *replayer) planned(parts []int) (int64, error) {
	var total int64
	for _, p := range parts {
		st, err := wal.StatPartition(r.cfg.WAL.Dir, p)
		if err != nil {
			return 0, fmt.Errorf("partition %d: %w", p, err)
		}
		first, last := r.bounds(st)
		if last >= first {
			total += int64(last - first + 1)
		}
	}
	return total, nil
}

// bounds returns the index range of a partition to scan.
func (r *replayer) bounds(st wal.PartitionStat) (first, last uint64) {
	first, last = max(r.o.from, st.FirstIndex), st.LastIndex
	if r.o.to > 0 {
		last = min(last, r.o.to)
	}
	return first, last
}

func (r *replayer) run(ctx context.Context, parts []int) error {
	for _, p := range parts {
		if err := r.partition(ctx, p); err != nil {
			return fmt.Errorf("partition %d: %w", p, err)
		}
	}
	return nil
}

// partition scans one partition's range and delivers what matches.
func (r *replayer) partition(ctx context.Context, p int) error {
	st, err := wal.StatPartition(r.cfg.WAL.Dir, p)
	if err != nil {
		return err
	}
	if r.o.from > 0 && r.o.from < st.FirstIndex {
		return fmt.Errorf("-from %d: entries below %d were deleted by retention", r.o.from, st.FirstIndex)
	}
	first, last := r.bounds(st)
	if last < first {
		return nil
	}
	rd, err := wal.OpenReader(r.cfg.WAL.Dir, p, first-1)
	if err != nil {
		return err
	}
	defer rd.Close()
	return r.scan(ctx, rd, p, last)
}

func (r *replayer) scan(ctx context.Context, rd *wal.Reader, p int, last uint64) error {
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) || (err == nil && e.Index > last) {
			return r.flush(ctx)
		}
		if err != nil {
			return err
		}
		r.prog.add(1)
		r.sum.scanned++
		r.take(p, e)
		if len(r.batch) >= r.limits.BatchMaxRecords || r.bytes >= r.limits.BatchMaxBytes {
			if err := r.flush(ctx); err != nil {
				return err
			}
		}
	}
}

// take decodes e and adds it to the batch when it matches.
func (r *replayer) take(p int, e wal.Entry) {
	rec := &walpb.Record{}
	if err := proto.Unmarshal(e.Data, rec); err != nil {
		r.sum.reject(deadLetterOf(p, e.Index, e.Data, fmt.Sprintf("undecodable WAL record: %v", err)))
		return
	}
	if !r.o.match(rec, r.topics) {
		return
	}
	r.sum.matched++
	r.batch = append(r.batch, datastore.Record{Partition: p, Index: e.Index, WAL: rec})
	r.bytes += len(e.Data)
}

func (r *replayer) flush(ctx context.Context) error {
	if len(r.batch) == 0 {
		return nil
	}
	dead, err := r.d.Deliver(ctx, r.batch)
	if err != nil {
		return err
	}
	r.sum.delivered += len(r.batch) - len(dead)
	for _, d := range dead {
		r.sum.reject(d)
	}
	r.batch, r.bytes = r.batch[:0], 0
	return nil
}

func deadLetterOf(p int, index uint64, data []byte, reason string) pipeline.DeadLetter {
	return pipeline.DeadLetter{Partition: p, Index: index, Data: append([]byte(nil), data...), Reason: reason, At: time.Now()}
}
