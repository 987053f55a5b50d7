// Package benchreport holds the figures of a benchmark run of fleetrelay
// and renders them as docs/BENCHMARKS.md: the machine and commit, the
// ingest comparison with the trivial ack server, memory per idle
// connection, the WAL and delivery micro-benchmarks, end-to-end latency,
// the simulator's ceiling and the load curve.
//
// The package only models, summarises and renders; running the processes
// and the go test benchmarks is the job of the benchreport command.
package benchreport
