// Package vehiclesim simulates a fleet of Tesla vehicles streaming telemetry
// to a fleet-telemetry compatible server.
//
// Each simulated vehicle has its own client certificate and VIN and connects
// over a mutual-TLS websocket exactly as vehicles do: request headers
// "Version" and "X-Network-Interface", one FlatbuffersEnvelope per binary
// message, sender_id "vehicle_device.<VIN>", device_type "vehicle_device",
// device_id VIN, created_at, and a txid and message_id per record. Records
// are V (a drive along a route: speed, location, gear, state of charge and
// odometer, plus many other value types), alerts and errors, mixed by
// weight.
//
// Delivery follows the firmware's "latest" policy: a record not acked within
// the resend timeout is sent again, and after a reconnect every unacked
// record is sent again. A resent record keeps its txid and message_id (so a
// server or an end-to-end check can recognise the duplicate) and, for V,
// carries is_resend = true. At most Window records per vehicle are unacked
// at any time; an error frame from the server settles a record without an
// ack (it is not resent: the server has rejected it).
//
// The simulator reports acked records per second, error frames, resends,
// reconnects and ack latency percentiles, periodically and at the end, and
// can log every acked (VIN, txid, topic) to a file (see AckLog).
package vehiclesim
