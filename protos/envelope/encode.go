package envelope

import flatbuffers "github.com/google/flatbuffers/go"

// Encoder builds frames byte-identical to the reference server's. It reuses
// one buffer: the slice a method returns is valid until the next call on the
// same Encoder, so arguments must not alias an earlier result of the same
// Encoder. An Encoder is not safe for concurrent use.
type Encoder struct {
	b       *flatbuffers.Builder
	scratch []byte // the error text as bytes, reused
}

// NewEncoder returns an Encoder with a buffer sized for typical answers.
func NewEncoder() *Encoder {
	return &Encoder{b: flatbuffers.NewBuilder(512)}
}

// Ack builds the acknowledgement of the record txid of the given topic:
// message_type 5, an empty message_id, and (as the reference does) a union
// value pointing at an empty byte vector rather than at a table.
func (e *Encoder) Ack(txid, topic []byte) []byte {
	return e.ack(txid, topic, nil)
}

// ack builds an ack-shaped frame with the given message_id, as a vehicle
// sending message_type 5 would.
func (e *Encoder) ack(txid, topic, messageID []byte) []byte {
	e.b.Reset()
	msg := e.b.CreateByteString(nil)
	return e.finish(txid, topic, messageID, msg, TypeStreamAck)
}

// Error builds an error answer for the record txid: a stream message whose
// payload is text, with empty topic, message_id, sender_id, device_type and
// device_id. The reference server always sends ErrorText.
func (e *Encoder) Error(txid []byte, text string) []byte {
	e.scratch = append(e.scratch[:0], text...)
	return e.Stream(txid, nil, nil, Stream{Payload: e.scratch})
}

// Stream builds a frame carrying a stream message, laid out as vehicles and
// the reference server build it. Zero CreatedAt and DeliveredAtEpochMs are
// left out of the frame (they read back as 0); nil and empty byte fields are
// both written as empty vectors.
func (e *Encoder) Stream(txid, topic, messageID []byte, s Stream) []byte {
	b := e.b
	b.Reset()
	senderID := b.CreateByteString(s.SenderID)
	payload := b.CreateByteString(s.Payload)
	deviceType := b.CreateByteString(s.DeviceType)
	deviceID := b.CreateByteString(s.DeviceID)
	b.StartObject(slotDeliveredAt + 1)
	b.PrependUOffsetTSlot(slotSenderID, senderID, 0)
	b.PrependUint32Slot(slotCreatedAt, s.CreatedAt, 0)
	b.PrependUOffsetTSlot(slotPayload, payload, 0)
	b.PrependUOffsetTSlot(slotDeviceType, deviceType, 0)
	b.PrependUOffsetTSlot(slotDeviceID, deviceID, 0)
	b.PrependUint64Slot(slotDeliveredAt, s.DeliveredAtEpochMs, 0)
	msg := b.EndObject()
	return e.finish(txid, topic, messageID, msg, TypeStream)
}

// finish writes the envelope table around an already written message and
// returns the finished frame.
func (e *Encoder) finish(txid, topic, messageID []byte, msg flatbuffers.UOffsetT, t MessageType) []byte {
	b := e.b
	txidVec := b.CreateByteString(txid)
	topicVec := b.CreateByteString(topic)
	messageIDVec := b.CreateByteString(messageID)
	b.StartObject(slotMessageID + 1)
	b.PrependUOffsetTSlot(slotTxID, txidVec, 0)
	b.PrependUOffsetTSlot(slotTopic, topicVec, 0)
	b.PrependByteSlot(slotMessageType, byte(t), 0)
	b.PrependUOffsetTSlot(slotMessage, msg, 0)
	b.PrependUOffsetTSlot(slotMessageID, messageIDVec, 0)
	b.Finish(b.EndObject())
	return b.FinishedBytes()
}
