package envelope

import "errors"

// Slots of the FlatbuffersEnvelope table (envelope.fbs).
const (
	slotTxID = iota
	slotTopic
	slotMessageType
	slotMessage
	slotMessageID
)

// Slots of the FlatbuffersStream table (envelope.fbs).
const (
	slotCreatedAt = iota
	slotSenderID
	slotPayload
	slotDeviceType
	slotDeviceID
	slotDeliveredAt
)

var (
	errShort       = malformed("frame shorter than a root offset")
	envelopeTable  = newTableErrors("envelope")
	streamTable    = newTableErrors("stream")
	fTxID          = newField("envelope.txid", slotTxID)
	fTopic         = newField("envelope.topic", slotTopic)
	fMessageType   = newField("envelope.message_type", slotMessageType)
	fMessage       = newField("envelope.message", slotMessage)
	fMessageID     = newField("envelope.message_id", slotMessageID)
	fCreatedAt     = newField("stream.created_at", slotCreatedAt)
	fSenderID      = newField("stream.sender_id", slotSenderID)
	fPayload       = newField("stream.payload", slotPayload)
	fDeviceType    = newField("stream.device_type", slotDeviceType)
	fDeviceID      = newField("stream.device_id", slotDeviceID)
	fDeliveredAtMs = newField("stream.delivered_at_epoch_ms", slotDeliveredAt)
)

// Decode parses frame into e without allocating. It overwrites all of e;
// e's slices alias frame (see Envelope).
//
// Decode returns nil when frame is an envelope carrying a FlatbuffersStream.
// Otherwise it returns ErrEmpty for a zero-length frame; an error wrapping
// ErrMalformed, with the reason, when the bytes are not a valid envelope
// (e is then zero); and ErrNotStream when the envelope is valid but its
// message is absent or of another type (e then holds TxID, Topic, MessageID
// and Type). Decode never panics and never reads outside frame.
func Decode(frame []byte, e *Envelope) error {
	*e = Envelope{}
	if len(frame) == 0 {
		return ErrEmpty
	}
	err := decode(frame, e)
	if err != nil && !errors.Is(err, ErrNotStream) {
		*e = Envelope{}
	}
	return err
}

func decode(frame []byte, e *Envelope) error {
	if len(frame) < uoffsetSize {
		return errShort
	}
	root, err := readTable(frame, int64(le.Uint32(frame)), envelopeTable)
	if err != nil {
		return err
	}
	if err := decodeEnvelope(root, e); err != nil {
		return err
	}
	if e.Type != TypeStream {
		return ErrNotStream
	}
	pos, ok, err := root.target(fMessage)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotStream
	}
	st, err := readTable(frame, pos, streamTable)
	if err != nil {
		return err
	}
	return decodeStream(st, &e.Stream)
}

func decodeEnvelope(t table, e *Envelope) error {
	r := fieldReader{t: t}
	e.TxID = r.bytes(fTxID)
	e.Topic = r.bytes(fTopic)
	e.MessageID = r.bytes(fMessageID)
	e.Type = MessageType(r.uint8(fMessageType))
	return r.err
}

func decodeStream(t table, s *Stream) error {
	r := fieldReader{t: t}
	s.CreatedAt = r.uint32(fCreatedAt)
	s.SenderID = r.bytes(fSenderID)
	s.Payload = r.bytes(fPayload)
	s.DeviceType = r.bytes(fDeviceType)
	s.DeviceID = r.bytes(fDeviceID)
	s.DeliveredAtEpochMs = r.uint64(fDeliveredAtMs)
	return r.err
}

// fieldReader reads fields of one table and keeps the first error; once an
// error is set, further reads return zero values.
type fieldReader struct {
	t   table
	err error
}

func (r *fieldReader) bytes(f *field) []byte {
	if r.err != nil {
		return nil
	}
	v, err := r.t.bytes(f)
	r.err = err
	return v
}

func (r *fieldReader) uint8(f *field) uint8 {
	if r.err != nil {
		return 0
	}
	v, err := r.t.uint8(f)
	r.err = err
	return v
}

func (r *fieldReader) uint32(f *field) uint32 {
	if r.err != nil {
		return 0
	}
	v, err := r.t.uint32(f)
	r.err = err
	return v
}

func (r *fieldReader) uint64(f *field) uint64 {
	if r.err != nil {
		return 0
	}
	v, err := r.t.uint64(f)
	r.err = err
	return v
}
