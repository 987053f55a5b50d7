// Package wal is fleetrelay's durable write-ahead log: the gateway appends
// every vehicle record to it before acknowledging the vehicle, and forwarder
// processes tail it and deliver it to the datastores.
//
// A log directory holds N partitions, each a directory of segment files in
// the binary format of github.com/tidwall/wal (which opens and checks each
// partition at Open; the committer then appends to the tail segment itself,
// from one reused buffer per batch: FORMAT.md says why), plus meta.json, a LOCK file and
// per-consumer cursors (see FORMAT.md for the layout). What this package
// adds to that format:
//
//   - Group commit: concurrent Append calls share one write(2) and one
//     fdatasync per partition; Append returns only once its record, and
//     every record before it in the partition, is durable. Optionally up
//     to Options.SyncDepth batches are synced at once, so the next batch
//     does not wait for the previous one's fdatasync. The fdatasyncs of
//     partitions ready at the same moment run together in one round
//     (syncGroup), so the file system can share journal commits between
//     them.
//   - A preallocated tail: each partition keeps zeros written and synced
//     ahead of its last entry (Options.Preallocate), so a commit overwrites
//     allocated blocks and its fdatasync needs no file-system journal
//     commit. Zeros never reach a sealed segment or a reader (FORMAT.md).
//   - Integrity: every entry carries a frame with a format version, a
//     CRC-32C, its index and its append time; every read verifies it and
//     reports damage as a *CorruptionError, never as data.
//   - Crash recovery: Open cuts a torn, partial or zero-filled tail (keeping
//     a .broken copy) before the writer reads the partition, and refuses to
//     open when damage is followed by valid entries, or when the length
//     prefixes of a recent sealed segment do not walk exactly to its end.
//   - One writer: an flock(2) on <dir>/LOCK; a second writer gets ErrLocked.
//   - Tailing from other processes: Tailer and Reader parse the segment
//     files themselves and deliver only entries the writer has fsynced (its
//     published watermark), following appends via fsnotify and polling.
//   - Cursors: durable per-consumer positions, written atomically.
//   - Retention and a disk budget: segments are deleted only when every
//     registered consumer has passed them; at the budget Append fails with
//     ErrFull unless the DropOldest policy is chosen.
//
// Metrics (OpenTelemetry, through Options.MeterProvider):
// fleetrelay_wal_appended_records_total, fleetrelay_wal_appended_bytes_total,
// fleetrelay_wal_batch_records (records per fsync),
// fleetrelay_wal_fsync_duration_seconds, fleetrelay_wal_disk_bytes,
// fleetrelay_wal_consumer_lag_records{consumer,partition},
// fleetrelay_wal_dropped_records_total and
// fleetrelay_wal_full_rejections_total; per-partition series carry a
// partition attribute.
//
// The command wal/cmd/walctl prints a log's state, dumps entries and
// verifies every checksum.
//
// Durability promise: a record whose Append returned nil survives a crash of
// the process or of the machine, provided the disk honours fsync. Records
// whose Append did not return nil may or may not be present after a crash.
// FORMAT.md states the limits and the recovery rules.
package wal
