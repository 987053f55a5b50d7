// Package reliability is the end-to-end fault suite of fleetrelay. It runs
// the real binaries as separate processes (simulated vehicles → gateway →
// WAL → one forwarder per sink → datastores), injects faults on a schedule
// (SIGKILL of every process, datastore restarts and slowness, the WAL disk
// budget reached and freed, vehicle reconnect storms) while hostile clients
// try to get in, and then checks the promise: every record a vehicle saw
// acked was delivered to every sink configured for its topic, in WAL order
// per vehicle. It reports losses, duplicates, order violations, refused
// hostile attempts and the recovery time after each fault.
//
// Run executes one scenario; cmd/reliability is its command line and the
// package's test runs a short scenario.
package reliability
