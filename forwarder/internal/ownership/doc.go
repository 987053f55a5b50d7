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
// membership file in <state dir>/members, in which it publishes how many
// partitions it owns. Periodically (the rebalance interval) a process counts
// the live members (a member file it can lock belongs to a dead process and
// is removed) and computes floor(P/N) and ceil(P/N). It releases partitions
// above ceil(P/N), and one more if it owns more than floor(P/N) while another
// member is below it (a release waits for the pipeline to finish the batch
// in flight and commit), takes any free partition while it
// owns fewer than floor(P/N), and takes more, up to ceil(P/N), only of
// partitions it already found free at the previous rebalance: a process
// below its floor gets a free partition first, so P=4 over N=3 settles as
// 2+1+1 rather than 2+2+0, and since N*ceil(P/N) >= P every partition is
// owned. The split converges within a few intervals after any process
// starts or stops (a dead owner's partitions are taken within two), and at
// no moment do two processes deliver the same (sink, partition).
package ownership
