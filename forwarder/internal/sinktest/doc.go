// Package sinktest provides datastore.Sink fakes for forwarder tests: an
// in-memory sink whose every Write outcome is scripted (transient failures,
// throttling, partial and permanent errors, delays), and a durable sink that
// appends each accepted record to a file, for crash tests across processes.
package sinktest
