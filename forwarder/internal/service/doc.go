// Package service runs the forwarder: for each sink it shares the WAL
// partitions with the other forwarder processes of that sink (package
// ownership) and, on each partition it owns, runs a delivery pipeline
// (package pipeline) from the sink's WAL cursor, with the partition's
// dead-letter file and a status file for `forwarder status`.
//
// On disk, beside the gateway's WAL (<wal dir>):
//
//	<wal dir>/cursors/<sink>/p<NNN>          cursor (package wal)
//	<wal dir>/forwarder/<sink>/p<NNN>.lock   ownership lock
//	<wal dir>/forwarder/<sink>/members/      live forwarder processes
//	<wal dir>/forwarder/<sink>/<N>.status.json
//	<dead letter dir>/<sink>/p<NNN>.dlq      dead letters
//
// The dead-letter dir is forwarder.dead_letter_dir, by default
// <wal dir>/deadletter.
package service
