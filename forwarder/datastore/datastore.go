// Package datastore defines what a forwarder sink is: something that delivers
// batches of WAL records to one datastore and says, per record, whether the
// datastore has durably accepted it.
package datastore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetrelay/fleetrelay/protos/walpb"
)

// Record is one WAL entry handed to a sink. Partition and Index locate it in
// the WAL; together they form the idempotency key that sinks attach as a
// header or attribute so that consumers can drop duplicates.
type Record struct {
	Partition int
	Index     uint64
	WAL       *walpb.Record
}

// ID returns the record's idempotency key, "<partition>-<index>".
func (r Record) ID() string { return fmt.Sprintf("%d-%d", r.Partition, r.Index) }

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
