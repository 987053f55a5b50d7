package envelope

import "errors"

// MessageType is the envelope's union type byte (schema field message_type).
type MessageType uint8

// Union members of the envelope's message. Values 1-3 are unused by vehicles
// and the reference server.
const (
	// TypeNone means the envelope carries no message.
	TypeNone MessageType = 0
	// TypeStream is a FlatbuffersStream: a vehicle record, or a server error answer.
	TypeStream MessageType = 4
	// TypeStreamAck is a FlatbuffersStreamAck: the server's acknowledgement.
	TypeStreamAck MessageType = 5
)

// ErrorText is the payload of every error answer the reference server sends,
// whatever went wrong.
const ErrorText = "incorrect message format"

// Stream is the content of a FlatbuffersStream table.
type Stream struct {
	// CreatedAt is the vehicle's clock when it built the record, Unix seconds.
	CreatedAt uint32
	// SenderID is "<device type>.<device id>" (legacy; not trusted).
	SenderID []byte
	// Payload is the record: a protobuf message selected by the topic.
	Payload []byte
	// DeviceType is the sending device's type, e.g. "vehicle_device".
	DeviceType []byte
	// DeviceID is the sending device's id, e.g. the VIN (not trusted).
	DeviceID []byte
	// DeliveredAtEpochMs is a receive time in Unix milliseconds; vehicles send 0.
	DeliveredAtEpochMs uint64
}

// Envelope is a decoded frame. Decode points its slices into the frame: they
// are valid as long as the frame's bytes are and must not be modified (their
// capacity ends at their length, so appending copies). A field absent from
// the frame is nil; a field present but empty is empty and non-nil.
type Envelope struct {
	// TxID is the vehicle's transaction id, echoed in the answer.
	TxID []byte
	// Topic is the record type: "V", "alerts", "errors", "connectivity", ...
	Topic []byte
	// MessageID is the vehicle's message id (not echoed by the reference server).
	MessageID []byte
	// Type is the union type byte of the envelope's message.
	Type MessageType
	// Stream is the stream message; set only when Type is TypeStream.
	Stream Stream
}

// Decode errors. Compare with errors.Is: the errors Decode returns for
// malformed frames wrap ErrMalformed with the reason.
var (
	// ErrEmpty reports a zero-length frame.
	ErrEmpty = errors.New("envelope: empty frame")
	// ErrMalformed reports bytes that are not a valid envelope.
	ErrMalformed = errors.New("envelope: malformed frame")
	// ErrNotStream reports a valid envelope whose message is absent or is
	// not a FlatbuffersStream (for example an ack sent by a vehicle).
	ErrNotStream = errors.New("envelope: message is not a stream")
)

// formatError is a malformed-frame reason. The reasons are package-level
// values so that Decode never allocates, even on hostile input.
type formatError struct{ reason string }

func (e *formatError) Error() string { return ErrMalformed.Error() + ": " + e.reason }

// Unwrap makes errors.Is(err, ErrMalformed) hold.
func (e *formatError) Unwrap() error { return ErrMalformed }

func malformed(reason string) error { return &formatError{reason: reason} }
