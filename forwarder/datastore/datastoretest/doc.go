// Package datastoretest is the shared test harness of the datastore sinks:
// it loads the reference server's conformance vectors as WAL records, runs
// every sink against them (RunConformance) and offers the small helpers the
// sink tests share (free ports, waiting for a listener, synthetic batches,
// child processes that die with the test).
package datastoretest
