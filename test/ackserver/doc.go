// Package ackserver is a trivial telemetry server: it accepts vehicles over
// mutual-TLS websockets and answers every binary frame with the reference
// server's ack frame (txid and topic echoed), storing nothing. It is the
// ceiling a real server can be compared with in load runs, and the peer of
// the vehicle simulator's tests, which use its fault options: drop the first
// N acks, drop every Kth ack, answer every Kth frame with an error frame, and
// close connections (after N frames, or on demand).
package ackserver
