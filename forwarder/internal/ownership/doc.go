// Package ownership shares the WAL partitions of one sink among the forwarder
// processes that run it, with no coordinator but the kernel.
//
// Each (sink, partition) has a lock file, <state dir>/p<partition>.lock. A
// process delivers a partition only while it holds an exclusive flock(2) on
// that file; the kernel drops the lock when the process dies, however it
// dies, so a crashed owner's partitions become free at once and no stale lock
// needs cleaning up.
//
// To split the partitions fairly, every process also holds a flock on its own
// membership file in <state dir>/members. Periodically (the rebalance
// interval) a process counts the live members (a member file it can lock
// belongs to a dead process and is removed), computes its fair share
// ceil(P/N), releases partitions above that share (after their pipelines
// finish the batch in flight and commit) and tries to lock free partitions up
// to it. Shares can exceed P/N while counts are changing; ceil(P/N) per
// process guarantees every partition can be owned. The outcome converges
// within a few intervals after any process starts or stops, and at no moment
// do two processes deliver the same (sink, partition).
package ownership
