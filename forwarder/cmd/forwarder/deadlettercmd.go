package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/deadletter"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/ownership"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/pipeline"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/service"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/wal"
)

// dlOpts are the flags of `forwarder deadletter list|replay`.
type dlOpts struct {
	config, sink string
	partition    int
	all          bool
}

// runDeadLetter is `forwarder deadletter list|replay`.
func runDeadLetter(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return usageErrorf("deadletter: want list or replay")
	}
	verb := args[0]
	if verb != "list" && verb != "replay" {
		return usageErrorf("deadletter: unknown action %q (want list or replay)", verb)
	}
	o := dlOpts{}
	fs := newFlagSet("deadletter "+verb, e.stderr)
	fs.StringVar(&o.config, "config", "config.json", "configuration file")
	fs.StringVar(&o.sink, "sink", "", "sink whose dead letters to use")
	fs.IntVar(&o.partition, "partition", -1, "WAL partition (default: all)")
	if verb == "list" {
		fs.BoolVar(&o.all, "all", false, "also list letters already replayed")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(o.config, e.stderr)
	if err != nil {
		return err
	}
	if err := oneSink(cfg, o.sink); err != nil {
		return err
	}
	meta, err := wal.ReadMeta(cfg.WAL.Dir)
	if err != nil {
		return fmt.Errorf("wal.dir: %w", err)
	}
	parts, err := partitionsOf(o.partition, meta.Partitions)
	if err != nil {
		return err
	}
	if verb == "list" {
		return listDeadLetters(e.stdout, service.DeadLetterDir(cfg, o.sink), parts, o.all)
	}
	return replayDeadLetters(ctx, cfg, o.sink, parts, e)
}

func listDeadLetters(w io.Writer, dir string, parts []int, all bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PART\tSEQ\tINDEX\tVIN\tTOPIC\tAT\tREPLAYED\tREASON")
	for _, p := range parts {
		replayed, err := deadletter.Replayed(dir, p)
		if err != nil {
			return err
		}
		after := replayed
		if all {
			after = 0
		}
		err = deadletter.Read(dir, p, after, func(n deadletter.Numbered) error {
			vin, topic := describe(n.Data)
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%t\t%s\n", p, n.Seq, n.Index, vin, topic,
				n.At.UTC().Format(time.RFC3339), n.Seq <= replayed, n.Reason)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write list: %w", err)
	}
	return nil
}

func describe(data []byte) (vin, topic string) {
	var r walpb.Record
	if err := proto.Unmarshal(data, &r); err != nil {
		return "?", "?"
	}
	return r.GetVin(), r.GetTopic()
}

// replayDeadLetters delivers the letters not yet replayed, records the
// progress after each batch, and reports those rejected again (their
// progress is recorded too: they stay listed with `list -all`).
func replayDeadLetters(ctx context.Context, cfg *config.Config, sinkName string, parts []int, e env) error {
	dir := service.DeadLetterDir(cfg, sinkName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dead-letter dir: %w", err)
	}
	l, ok, err := ownership.TryLock(filepath.Join(dir, "replay.lock"))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("another dead-letter replay of %s is running", sinkName)
	}
	defer l.Unlock()
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sink, err := e.sinks(cfg, log, noop.NewMeterProvider())(ctx, sinkName)
	if err != nil {
		return fmt.Errorf("create sink %s: %w", sinkName, err)
	}
	defer closeSink(sink, log)
	fc := cfg.Forwarder.WithDefaults()
	r := &dlReplayer{dir: dir, max: fc.BatchMaxRecordsFor(datastore.PreferredBatchMaxRecords(sink)), sum: summary{start: time.Now()},
		d: &pipeline.Deliverer{Sink: sink, Retry: fc.Retry, Logger: log}}
	for _, p := range parts {
		if err = r.partition(ctx, p); err != nil {
			err = fmt.Errorf("partition %d: %w", p, err)
			break
		}
	}
	r.sum.print(e.stdout, "deadletter replay", sinkName, parts)
	return r.sum.result(err)
}

type dlReplayer struct {
	dir   string
	max   int
	d     *pipeline.Deliverer
	sum   summary
	batch []datastore.Record
	seq   uint64 // number of the last letter in batch
}

func (r *dlReplayer) partition(ctx context.Context, p int) error {
	after, err := deadletter.Replayed(r.dir, p)
	if err != nil {
		return err
	}
	err = deadletter.Read(r.dir, p, after, func(n deadletter.Numbered) error {
		r.sum.scanned++
		r.seq = n.Seq
		rec := &walpb.Record{}
		if err := proto.Unmarshal(n.Data, rec); err != nil {
			r.sum.reject(n.Letter)
		} else {
			r.sum.matched++
			r.batch = append(r.batch, datastore.Record{Partition: n.Partition, Index: n.Index, WAL: rec})
		}
		if len(r.batch) >= r.max {
			return r.flush(ctx, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.flush(ctx, p)
}

// flush delivers the batch and durably records the replay progress.
func (r *dlReplayer) flush(ctx context.Context, p int) error {
	if len(r.batch) > 0 {
		dead, err := r.d.Deliver(ctx, r.batch)
		if err != nil {
			return err
		}
		r.sum.delivered += len(r.batch) - len(dead)
		for _, d := range dead {
			r.sum.reject(d)
		}
		r.batch = r.batch[:0]
	}
	if r.seq == 0 {
		return nil
	}
	err := deadletter.SetReplayed(r.dir, p, r.seq)
	r.seq = 0
	return err
}
