// Package e2e holds black-box end-to-end tests: the real gateway, forwarder
// and vehicle simulator run as separate processes, are killed with SIGKILL
// while vehicles stream, and the tests check that every record a vehicle saw
// acknowledged is in the WAL and was delivered.
package e2e
