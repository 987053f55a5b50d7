// Package envelope encodes and decodes the FlatBuffers envelope that vehicles
// and the server exchange: every binary websocket message, in both
// directions, is one FlatbuffersEnvelope (schema in envelope.fbs).
//
// # Wire layout
//
// A frame starts with a little-endian uint32 offset to the root table, a
// FlatbuffersEnvelope with five slots: txid, topic ([ubyte] vectors),
// message_type (ubyte union type), message (uoffset to the union value) and
// message_id ([ubyte]). Each table starts with an int32 soffset back to its
// vtable: uint16 vtable size, uint16 table size, then one uint16 field offset
// per slot (0 = absent; trailing absent slots are trimmed). A vector is a
// uint32 length followed by its bytes. Vehicles send message_type 4
// (FlatbuffersStream: created_at uint32, sender_id, payload, device_type,
// device_id, delivered_at_epoch_ms uint64); the server answers with an ack
// (message_type 5) or an error (message_type 4 with payload ErrorText).
//
// # Safety
//
// Decode does not use generated accessors, which trust the buffer. It reads
// through its own bounds-checked table reader (reader.go): before any read it
// checks that the root and union offsets, the table's soffset, the vtable's
// extent and size fields, every field's extent within its table, and every
// vector's length fall inside the frame, doing the arithmetic in int64 so no
// offset can wrap. A failed check returns an error wrapping ErrMalformed;
// Decode never panics, never reads out of bounds and never allocates (error
// values are preallocated, the Envelope points into the frame). Alignment is
// not required, as in the reference server, which reads with unaligned
// little-endian loads. Only two tables are ever visited, so depth and
// complexity limits are unnecessary.
//
// # Reference quirks reproduced on purpose
//
// The Encoder reproduces the reference server's frames byte for byte, because
// vehicles and the conformance vectors compare them exactly:
//
//   - [ubyte] fields are written like strings, with a trailing NUL not counted
//     in the length; absent inputs are written as empty vectors, never left out.
//   - An ack's message_id is present and empty (the vehicle's is not echoed),
//     and its union value points at an empty byte vector instead of a
//     FlatbuffersStreamAck table. Readers look only at message_type.
//   - An error frame is a stream message with an empty topic (even when the
//     record had one), empty message_id, sender_id, device_type and device_id,
//     and no created_at or delivered_at_epoch_ms: its vtable ends at slot 4.
//   - Objects are written in the reference builder's order (stream vectors
//     sender_id, payload, device_type, device_id; then the stream table; then
//     txid, topic, message_id; then the envelope), which fixes every offset.
//
// Decode accepts what the reference server accepts: a message_type other than
// 4, or an absent message, is ErrNotStream (the reference answers such frames
// with acks carrying the txid), and the union value is not followed then.
package envelope
