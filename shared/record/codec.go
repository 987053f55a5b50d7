package record

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// marshalOptions keeps unknown fields (the default) and sorts map keys, so a
// record encodes to the same bytes every time it is forwarded. For maps of at
// most one entry the bytes equal the reference server's.
var marshalOptions = proto.MarshalOptions{Deterministic: true}

// jsonOptions are the reference's transmit_decoded_records options: every
// field rendered (unset messages as null, empty lists as []), enums by name.
var jsonOptions = protojson.MarshalOptions{EmitUnpopulated: true}

// Marshal encodes msg as the protobuf bytes datastores receive.
func Marshal(msg proto.Message) ([]byte, error) {
	b, err := marshalOptions.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	return b, nil
}

// AppendMarshal is Marshal appending to dst.
func AppendMarshal(dst []byte, msg proto.Message) ([]byte, error) {
	b, err := marshalOptions.MarshalAppend(dst, msg)
	if err != nil {
		return dst, fmt.Errorf("marshal %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	return b, nil
}

// Normalize decodes a vehicle payload of the topic, applies Transform with
// the certificate VIN and re-encodes it: the result is what the reference
// server dispatches. Opaque topics are returned unchanged (the same slice).
// A payload that is not a valid message of the topic's type fails.
//
// Payloads in canonical form take a single pass over their bytes (fast.go);
// any other payload goes through normalizeReflect, which defines the output.
func Normalize(topic string, payload []byte, vin string) ([]byte, error) {
	if !Known(topic) {
		return payload, nil
	}
	if out, ok := fastNormalize(topic, payload, vin); ok {
		return out, nil
	}
	return normalizeReflect(topic, payload, vin)
}

// AppendNormalize is Normalize appending to dst, which lets a caller keep
// the normalized payload in a buffer it allocates once. Opaque topics append
// the payload unchanged. On error dst is returned as it was.
func AppendNormalize(dst []byte, topic string, payload []byte, vin string) ([]byte, error) {
	c, ok := codecFor(topic)
	if !ok {
		return append(dst, payload...), nil
	}
	if utf8.ValidString(vin) {
		if out, ok := c.appendNormalized(dst, payload, vin); ok {
			return out, nil
		}
	}
	msg, err := Unmarshal(topic, payload)
	if err != nil {
		return dst, err
	}
	Transform(msg, vin)
	return AppendMarshal(dst, msg)
}

// normalizeReflect is Normalize by decoding into the generated message,
// transforming it and encoding it again: the reference behaviour, which the
// fast path must reproduce byte for byte.
func normalizeReflect(topic string, payload []byte, vin string) ([]byte, error) {
	msg, err := Unmarshal(topic, payload)
	if err != nil {
		return nil, err
	}
	Transform(msg, vin)
	return Marshal(msg)
}

// DecodedJSON renders a stored (already transformed) payload of a known
// topic as the protojson the reference sends with transmit_decoded_records.
// Go's protojson varies insignificant whitespace between builds on purpose:
// compare the output as JSON, not as bytes. Opaque topics fail with
// ErrUnknownTopic, as they do in the reference.
func DecodedJSON(topic string, payload []byte) ([]byte, error) {
	msg, err := Unmarshal(topic, payload)
	if err != nil {
		return nil, err
	}
	b, err := jsonOptions.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("render %q payload as JSON: %w", topic, err)
	}
	return b, nil
}
