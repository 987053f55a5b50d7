// Package ingest decides, for every binary frame a vehicle sends, what the
// gateway answers and what it stores, and encodes the WAL record
// (walpb.Record) of each accepted record, ready for the WAL. It is pure: no I/O, no goroutines,
// the time is passed in. Processor.Process is safe for concurrent use.
//
// # Decision table
//
// The checks run in the reference server's order (teslamotors/fleet-telemetry
// socket.go ProcessTelemetry, ParseAndProcessRecord, telemetry.NewRecord,
// Deserialize). The first matching row decides:
//
//	#  condition                                         action  answer               reason
//	1  rate_limit enabled and the VIN is over its limit  drop    none                 rate_limited
//	2  frame longer than MaxFrameBytes (1,000,000)       error   Error(empty txid)    too_big
//	3  zero-length frame                                 ack     Ack(empty, empty)    empty
//	3b valid envelope without a stream message           ack     Ack(txid, empty)     not_stream
//	   (absent message, message_type 5 sent by a vehicle, ...)
//	4  not a FlatBuffers envelope                        error   Error(empty txid)    malformed
//	5  topic not in records, sender_id is neither        error   Error(txid)          sender_mismatch
//	   "<client type>.<VIN>" nor "<VIN>"
//	6  topic not in records, sender matches, topic is    error   Error(txid)          bad_payload
//	   V/alerts/errors/connectivity and its payload
//	   does not decode
//	6b topic not in records, sender matches              ack     Ack(txid, topic)     unconfigured_topic
//	7  topic in records, V/alerts/errors/connectivity,   error   Error(txid)          bad_payload
//	   payload does not decode (sender_id not checked)
//	8  topic in records                                  store   Ack(txid, topic)     stored
//	                                                             after the WAL append
//
// Error answers are the reference's bytes: message_type 4, the txid, an
// empty topic and the payload "incorrect message format"
// (envelope.ErrorText). The gateway builds answers with envelope.Encoder
// from Result.TxID and Result.Topic.
//
// A stored record (row 8) carries the VIN and client type of the verified
// certificate, never of the frame: the envelope's sender_id and device_id
// are ignored and the payload's vin is overwritten. Its payload is the
// vehicle's protobuf after the reference transforms (package
// shared/record), re-encoded, so a forwarder sends exactly the bytes the
// reference dispatches; the payload of any other configured topic is stored
// unchanged. received_at_ms is the receive time in Unix milliseconds.
//
// Connectivity builds the record the gateway generates on connect and
// disconnect when the connectivity topic is configured: txid = connection
// id, generated = true, never acked.
//
// # Deliberate differences from the reference server
//
//   - Rows 3 and 3b send one ack, not two. The reference acks in its
//     unknown-message-type branch and then falls through to a dispatch of
//     the empty topic and acks again. Both acks are identical; a vehicle
//     that sent one frame needs one answer, and an extra ack for an unknown
//     txid is noise at best.
//   - Row 1 is per VIN, honours the documented message_interval_time key
//     and is off (nothing counted) when disabled; see package ratelimit.
//   - An ack is sent only once the record is durable in the WAL (the
//     gateway does this; the reference acks once an in-memory dispatch
//     returned).
//   - Connection strings from request headers (Version,
//     X-Network-Interface) with invalid UTF-8 are stored with U+FFFD
//     replacements, so that every record encodes; the reference would fail
//     to encode such a connectivity record.
//   - With transmit_decoded_records the reference answers an error for any
//     topic other than the four known ones, configured or not (rows 6b and
//     8), because it cannot render it as JSON. fleetrelay's answer does not
//     depend on a datastore's output format: it stores configured topics
//     and acks unconfigured ones as above; rendering is the forwarders' job.
//   - The frame size check happens after the whole frame was read, as in
//     the reference; the gateway should additionally cap websocket reads.
package ingest
