// Package datastore defines what a forwarder sink is: something that delivers
// batches of WAL records to one datastore and says, per record, whether the
// datastore has durably accepted it.
package datastore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/fleetrelay/fleetrelay/protos/walpb"
)

// Settings is what every sink constructor receives besides its own config
// section: the top-level options that shape messages, and where to log and
// meter.
type Settings struct {
	// Namespace is the top-level `namespace`; destinations are named
	// "<namespace>_<topic>" (an empty namespace gives "_<topic>", as the
	// reference does).
	Namespace string
	// TransmitDecodedRecords sends the record as protojson instead of
	// protobuf (top-level `transmit_decoded_records`).
	TransmitDecodedRecords bool
	// Logger receives the sink's own logs; nil discards them.
	Logger *slog.Logger
	// MeterProvider creates the sink's metrics; nil disables them.
	MeterProvider metric.MeterProvider
}

// WithDefaults returns a copy with a discarding logger and a no-op meter
// provider in place of nil ones.
func (s Settings) WithDefaults() Settings {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.MeterProvider == nil {
		s.MeterProvider = noop.NewMeterProvider()
	}
	return s
}

// Record is one WAL entry handed to a sink. Partition and Index locate it in
// the WAL; together they form the idempotency key that sinks attach as a
// header or attribute so that consumers can drop duplicates.
type Record struct {
	Partition int
	Index     uint64
	WAL       *walpb.Record
}

// ID returns the record's idempotency key, "<partition>-<index>".
func (r Record) ID() string {
	return strconv.Itoa(r.Partition) + "-" + strconv.FormatUint(r.Index, 10)
}

// Sink delivers batches to one datastore. Write returns nil only when every
// record of the batch is durably accepted by the datastore. It may be called
// again with the same records (delivery is at least once), honours ctx, and
// does not retry on its own: the pipeline owns retries. Errors are classified
// with Permanent, RetryAfter and *PartialError; anything else is transient.
type Sink interface {
	// Name is the dispatcher name this sink serves ("kafka", "kinesis",
	// "pubsub", "mqtt", "logger").
	Name() string
	Write(ctx context.Context, batch []Record) error
	// Close flushes and releases the sink; it is safe without Write and safe
	// to call twice.
	Close(ctx context.Context) error
}

// BatchSizer is implemented by sinks whose datastore is best served by
// batches of a size other than the forwarder's default
// (config.DefaultBatchMaxRecords). When forwarder.batch_max_records is unset,
// the forwarder hands such a sink at most BatchMaxRecords records per Write;
// when it is set, that value applies to every sink, and Write must still
// accept batches of any size (splitting them into requests the datastore
// takes, if it has a limit).
type BatchSizer interface {
	// BatchMaxRecords is the sink's preferred number of records per Write
	// (positive).
	BatchMaxRecords() int
}

// PreferredBatchMaxRecords returns s's preferred batch size when s is a
// BatchSizer, and 0 (no preference) otherwise.
func PreferredBatchMaxRecords(s Sink) int {
	if bs, ok := s.(BatchSizer); ok {
		return bs.BatchMaxRecords()
	}
	return 0
}

// permanentError marks an error the datastore will never accept, however
// often it is retried.
type permanentError struct{ err error }

func (e permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err to say that retrying cannot succeed: the pipeline sends
// the affected records to the dead-letter store and moves on.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err: err}
}

// IsPermanent reports whether err (or anything it wraps) is permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// ThrottledError says the datastore asked us to slow down.
type ThrottledError struct {
	Err   error
	After time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("throttled (retry after %s): %v", e.After, e.Err)
}
func (e *ThrottledError) Unwrap() error { return e.Err }

// RetryAfter wraps err as a throttling error: retry no sooner than d.
func RetryAfter(err error, d time.Duration) error { return &ThrottledError{Err: err, After: d} }

// PartialError reports a batch of which only some records failed. Failed
// holds indexes into the batch; Errs holds the error of each (same length).
// Records not listed were durably accepted. An error in Errs may itself be
// Permanent.
type PartialError struct {
	Failed []int
	Errs   []error
}

func (e *PartialError) Error() string {
	if len(e.Errs) == 0 {
		return fmt.Sprintf("%d records failed", len(e.Failed))
	}
	return fmt.Sprintf("%d records failed, first: %v", len(e.Failed), e.Errs[0])
}

// Unwrap returns the per-record errors, so that errors.Is and errors.As see
// through a partial failure.
func (e *PartialError) Unwrap() []error { return e.Errs }

// Add records that batch index i failed with err.
func (e *PartialError) Add(i int, err error) {
	e.Failed = append(e.Failed, i)
	e.Errs = append(e.Errs, err)
}

// Err returns e when at least one record failed and nil otherwise, so that a
// sink can build a PartialError while checking results and return Err().
func (e *PartialError) Err() error {
	if e == nil || len(e.Failed) == 0 {
		return nil
	}
	return e
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("datastore: sink closed")
