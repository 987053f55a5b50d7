// Package pipeline delivers one WAL partition to one sink: it tails the
// partition from the sink's cursor, decodes each entry as a walpb.Record,
// skips records whose topic is not routed to the sink, batches the rest,
// writes each batch to the sink until the datastore accepts it, and then
// commits the cursor.
//
// # Delivery guarantee
//
// At least once. The cursor is the contiguous confirmed prefix of the
// partition: it is committed to index i only after every entry up to i has
// been accepted by the datastore, skipped (topic not routed to the sink) or
// written durably to the dead-letter store. A crash or restart resumes after
// the cursor, so records accepted but not yet covered by a commit are sent
// again: consumers deduplicate with the record ID (partition-index).
// Commits run beside delivery and coalesce (one cursor fsync may cover
// several batches), so the cursor can trail the settled prefix by a few
// batches; it never runs ahead of it.
//
// Retries never give up: a transient error is retried with capped
// exponential backoff and jitter for as long as it takes, a throttling error
// (datastore.RetryAfter) waits at least the requested time, and the WAL keeps
// everything meanwhile. Only a permanent error (datastore.Permanent) moves a
// record to the dead-letter store, with its reason.
//
// # Order
//
// Writes of one (sink, partition) are sequential: a batch is written only
// after the previous one is settled, so records reach the sink in WAL order,
// which per VIN is the order the gateway accepted them. The exception is a
// sink that implements Submitter and says it Pipelines (Kafka with an
// idempotent producer): its datastore keeps the order in which records are
// handed over, so up to Prefetch batches are handed over before the first
// is confirmed, and they are settled in order. If one of them is not
// confirmed whole, the later ones may already hold later records of its
// VINs: the pipeline waits for all of them, retries the failed batch as
// below, then sends every later batch in flight again, whole and in order. When a datastore
// accepts part of a batch (datastore.PartialError), the pipeline retries the
// failed records together with every later record of the same VIN in that
// batch, including ones already accepted. Those are delivered twice, but the
// last delivery of every record of a VIN is in WAL order: a failed record is
// never finally overtaken by a later record of its VIN. Records of other VINs
// are not held back. A dead-lettered record leaves a gap in its VIN's
// sequence, which replay from the dead-letter store fills later.
//
// # Stopping
//
// A read error, such as a corrupt WAL entry (wal.ErrCorrupt), stops the
// partition at that entry: the batches read before it are delivered and
// committed, the error is logged, counted and reported in the status, and Run
// returns it. Nothing after the damaged entry is skipped silently.
//
// When Run's context is cancelled, the pipeline stops reading, finishes the
// batches it is writing (bounded by Config.ShutdownTimeout), commits, and
// returns nil. Batches read ahead but not started are left for the next run.
package pipeline
