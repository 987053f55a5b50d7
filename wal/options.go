package wal

import (
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Defaults applied by Open to zero-valued Options fields.
const (
	// DefaultSegmentSize keeps segment files small enough that retention frees
	// space promptly and that Open's read of the tail segment stays short.
	DefaultSegmentSize = 16 << 20
	// DefaultMaxBatchBytes bounds one group commit: a batch is one write(2)
	// and one fsync, and a larger write lengthens every waiting Append.
	DefaultMaxBatchBytes = 4 << 20
	// DefaultMaxBatchRecords bounds one group commit in records.
	DefaultMaxBatchRecords = 4096
	// DefaultPreallocate is the default Options.Preallocate.
	DefaultPreallocate = 1 << 20
	// DefaultSyncDepth is the default Options.SyncDepth.
	DefaultSyncDepth = 1
	// DefaultRetentionInterval is how often the writer deletes segments every
	// consumer has passed and refreshes consumer lag.
	DefaultRetentionInterval = time.Second
)

// Overflow is what Append does when the disk budget is reached.
type Overflow int

const (
	// RejectNew makes Append fail with ErrFull; nothing undelivered is deleted.
	RejectNew Overflow = iota
	// DropOldest deletes the oldest segments, delivered or not, until the
	// record fits. Every dropped record is counted and logged.
	DropOldest
)

// Options configure Open. The zero value is usable: one partition, the
// defaults above, fsync on every group commit, no disk budget.
type Options struct {
	// Partitions is the number of partitions of a new log; for an existing log
	// it must be 0 or equal to the stored count.
	Partitions int
	// SegmentSize is the size at which a partition starts a new segment file.
	SegmentSize int64
	// MaxBatchBytes and MaxBatchRecords bound one group commit. Recovery
	// also uses MaxBatchBytes to recognise pages of the last, unsynced batch
	// lost in a machine crash (see FORMAT.md), so lower it only between
	// clean shutdowns.
	MaxBatchBytes, MaxBatchRecords int
	// NoSync skips fsync. For tests only: it breaks the durability promise.
	NoSync bool
	// DiskBudgetBytes caps the bytes of all segments; 0 means no cap. It is
	// checked when an Append starts, so records already admitted may exceed
	// it by their own size. The tail segment of each partition is never
	// deleted, so the budget should be several SegmentSize × partitions.
	DiskBudgetBytes int64
	// Overflow selects the behaviour at the disk budget (default RejectNew).
	Overflow Overflow
	// Consumers are the sink names whose cursors gate segment deletion. A
	// consumer without a cursor counts as position 0. With no consumers,
	// segments are only deleted by the DropOldest policy.
	Consumers []string
	// Preallocate is how many bytes of zeros each partition keeps written
	// and synced ahead of the end of its tail segment (topped up once half
	// is used, never past SegmentSize); 0 means DefaultPreallocate and a
	// negative value turns it off. A group commit then overwrites blocks
	// that are already allocated and written, so its fdatasync needs no
	// file-system journal commit (see FORMAT.md). The zeros count as bytes
	// on disk against DiskBudgetBytes; none are written past the budget.
	Preallocate int64
	// SyncDepth is how many group commits of a partition may be synced at
	// once (default DefaultSyncDepth, 1). With 2, the next batch is written
	// and its fdatasync started while the previous one's still runs, instead
	// of waiting for it; callers are still answered in index order, and only
	// once every batch up to theirs is durable. That helps when the writer's
	// CPU is contended, but splits the records into smaller batches: on a
	// quiet machine 1 commits more records per second (FORMAT.md).
	// Recovery allows for SyncDepth unsynced batches at a crash, so lower it
	// only between clean shutdowns.
	SyncDepth int
	// RetentionInterval is the period of the retention pass.
	RetentionInterval time.Duration
	// Logger receives warnings (torn tails cut, records dropped); nil discards.
	Logger *slog.Logger
	// MeterProvider receives the log's metrics; nil means no metrics.
	MeterProvider metric.MeterProvider
}

func (o Options) withDefaults() Options {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.MaxBatchRecords <= 0 {
		o.MaxBatchRecords = DefaultMaxBatchRecords
	}
	if o.Preallocate == 0 {
		o.Preallocate = DefaultPreallocate
	}
	if o.SyncDepth <= 0 {
		o.SyncDepth = DefaultSyncDepth
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = DefaultRetentionInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MeterProvider == nil {
		o.MeterProvider = noop.NewMeterProvider()
	}
	return o
}

func (o Options) validate() error {
	if o.Partitions < 0 || o.Partitions > 999 {
		return fmt.Errorf("wal: options: partitions %d out of range 0..999", o.Partitions)
	}
	if o.Overflow != RejectNew && o.Overflow != DropOldest {
		return fmt.Errorf("wal: options: unknown overflow policy %d", o.Overflow)
	}
	for _, c := range o.Consumers {
		if err := validConsumer(c); err != nil {
			return fmt.Errorf("wal: options: %w", err)
		}
	}
	return nil
}
