// Package record knows the payload of every record type a vehicle streams:
// the protobuf message behind each known topic, the transforms the reference
// server (teslamotors/fleet-telemetry) applies before dispatch, and the two
// encodings datastores receive.
//
// Topics and messages:
//
//	"V"            vehiclepb.Payload
//	"alerts"       vehiclepb.VehicleAlerts
//	"errors"       vehiclepb.VehicleErrors
//	"connectivity" vehiclepb.VehicleConnectivity
//
// Any other topic is opaque: its payload is stored and forwarded unchanged.
//
// Transforms (Transform applies all that fit the message, in this order):
//
//   - every type: the body's vin is replaced by the VIN of the verified
//     client certificate, so a vehicle cannot write under another VIN;
//   - "V": the first datum keyed Location, if it holds a string of the form
//     "(37.412374 N, 122.145867 W)", becomes a LocationValue (S and W
//     negate); later Location datums are left alone;
//   - "V": every string value matching ^[+-]?(\d*\.\d+|\d+\.\d*)([eE][+-]?\d+)$
//     is parsed as a float32 and rewritten with five decimals ("1.5e-3" →
//     "0.00150");
//   - "alerts": a started_at or ended_at whose seconds are at least
//     315576000000 (the protojson limit, year 11970) carries milliseconds by
//     mistake and is converted (nanos are dropped, as the reference does).
//
// Encodings: Marshal gives the protobuf bytes a datastore receives when
// transmit_decoded_records is false (unknown fields kept, map keys sorted so
// equal records encode equally); DecodedJSON gives the protojson a datastore
// receives when it is true (EmitUnpopulated, enum names). Both reproduce the
// reference server's output, which the conformance tests check.
//
// Cost: Normalize and AppendNormalize take a single pass over the wire bytes
// for payloads already in the form deterministic proto.Marshal writes, which
// is how vehicles encode them, rewriting only what the transforms change;
// any other payload (including every invalid one) is decoded into the
// message, transformed and encoded again. Both give the same bytes and the
// same outcome for every payload, which FuzzNormalizeMatchesReflect checks.
package record
