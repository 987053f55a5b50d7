package envelope

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// sampleStream is a vehicle record with every field set.
var sampleStream = Stream{
	CreatedAt:          1700000000,
	SenderID:           []byte("vehicle_device." + vin),
	Payload:            []byte{0x0a, 0x07, 0x08, 0x05, 0x12, 0x03, 0x10, 0xb9, 0x60},
	DeviceType:         []byte("vehicle_device"),
	DeviceID:           []byte(vin),
	DeliveredAtEpochMs: 1700000000123,
}

// sampleFrame returns a fresh copy of a stream frame built from sampleStream.
func sampleFrame() []byte {
	return bytes.Clone(NewEncoder().Stream([]byte("txid-1"), []byte("V"), []byte("msgid-1"), sampleStream))
}

// frameLayout locates the parts of a valid frame, to patch them.
type frameLayout struct {
	root, vt     int // envelope table and its vtable
	stream, svt  int // stream table and its vtable
	message      int // position of the envelope's message uoffset
	messageType  int // position of the envelope's message_type byte
	txid         int // position of the envelope's txid uoffset
	streamSender int // position of the stream's sender_id uoffset
}

func layoutOf(t *testing.T, frame []byte) frameLayout {
	t.Helper()
	u16 := func(p int) int { return int(binary.LittleEndian.Uint16(frame[p:])) }
	u32 := func(p int) int { return int(binary.LittleEndian.Uint32(frame[p:])) }
	var l frameLayout
	l.root = u32(0)
	l.vt = l.root - int(int32(u32(l.root)))
	l.txid = l.root + u16(l.vt+4+2*slotTxID)
	l.messageType = l.root + u16(l.vt+4+2*slotMessageType)
	l.message = l.root + u16(l.vt+4+2*slotMessage)
	l.stream = l.message + u32(l.message)
	l.svt = l.stream - int(int32(u32(l.stream)))
	l.streamSender = l.stream + u16(l.svt+4+2*slotSenderID)
	return l
}

func put16(frame []byte, pos, v int) { binary.LittleEndian.PutUint16(frame[pos:], uint16(v)) }
func put32(frame []byte, pos, v int) { binary.LittleEndian.PutUint32(frame[pos:], uint32(v)) }

func TestDecodeSampleFrame(t *testing.T) {
	var e Envelope
	require.NoError(t, Decode(sampleFrame(), &e))
	require.Equal(t, "txid-1", string(e.TxID))
	require.Equal(t, "V", string(e.Topic))
	require.Equal(t, "msgid-1", string(e.MessageID))
	require.Equal(t, TypeStream, e.Type)
	require.Equal(t, sampleStream, e.Stream)
	for _, b := range [][]byte{e.TxID, e.Topic, e.MessageID, e.Stream.SenderID, e.Stream.Payload} {
		require.Equal(t, len(b), cap(b), "decoded slices must not expose the rest of the frame")
	}
}

func TestDecodeHostileFrames(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, f []byte) []byte
		want   error
		reason string // for ErrMalformed: the reason in the message
	}{
		{"shorter_than_root_offset", func(_ *testing.T, f []byte) []byte { return f[:3] }, ErrMalformed, "frame shorter than a root offset"},
		{"root_offset_past_end", func(_ *testing.T, f []byte) []byte { put32(f, 0, len(f)); return f }, ErrMalformed, "envelope: table offset out of range"},
		{"root_offset_huge", func(_ *testing.T, f []byte) []byte { put32(f, 0, 0xffffffff); return f }, ErrMalformed, "envelope: table offset out of range"},
		{"vtable_before_frame", func(t *testing.T, f []byte) []byte {
			put32(f, layoutOf(t, f).root, 0x7fffffff)
			return f
		}, ErrMalformed, "envelope: vtable out of range"},
		{"vtable_past_end", func(t *testing.T, f []byte) []byte {
			put32(f, layoutOf(t, f).root, -len(f))
			return f
		}, ErrMalformed, "envelope: vtable out of range"},
		{"vtable_size_too_small", func(t *testing.T, f []byte) []byte { put16(f, layoutOf(t, f).vt, 2); return f }, ErrMalformed, "envelope: vtable out of range"},
		{"vtable_size_odd", func(t *testing.T, f []byte) []byte { put16(f, layoutOf(t, f).vt, 13); return f }, ErrMalformed, "envelope: vtable out of range"},
		{"vtable_size_past_end", func(t *testing.T, f []byte) []byte { put16(f, layoutOf(t, f).vt, 0xfffe); return f }, ErrMalformed, "envelope: vtable out of range"},
		{"table_size_past_end", func(t *testing.T, f []byte) []byte { put16(f, layoutOf(t, f).vt+2, 0xffff); return f }, ErrMalformed, "envelope: table size out of range"},
		{"table_size_too_small", func(t *testing.T, f []byte) []byte { put16(f, layoutOf(t, f).vt+2, 2); return f }, ErrMalformed, "envelope: table size out of range"},
		{"field_outside_table", func(t *testing.T, f []byte) []byte {
			put16(f, layoutOf(t, f).vt+4+2*slotTopic, 0xfff0)
			return f
		}, ErrMalformed, "envelope.topic: field outside its table"},
		{"field_overlaps_soffset", func(t *testing.T, f []byte) []byte {
			put16(f, layoutOf(t, f).vt+4+2*slotTopic, 2)
			return f
		}, ErrMalformed, "envelope.topic: field outside its table"},
		{"vector_offset_zero", func(t *testing.T, f []byte) []byte { put32(f, layoutOf(t, f).txid, 0); return f }, ErrMalformed, "envelope.txid: offset out of range"},
		{"vector_offset_past_end", func(t *testing.T, f []byte) []byte {
			put32(f, layoutOf(t, f).txid, 0xfffffff0)
			return f
		}, ErrMalformed, "envelope.txid: offset out of range"},
		{"vector_length_past_end", func(t *testing.T, f []byte) []byte {
			l := layoutOf(t, f)
			put32(f, l.txid+int(binary.LittleEndian.Uint32(f[l.txid:])), 0xffffffff)
			return f
		}, ErrMalformed, "envelope.txid: vector length out of range"},
		{"message_offset_past_end", func(t *testing.T, f []byte) []byte {
			put32(f, layoutOf(t, f).message, len(f))
			return f
		}, ErrMalformed, "envelope.message: offset out of range"},
		{"stream_vtable_bad", func(t *testing.T, f []byte) []byte { put16(f, layoutOf(t, f).svt, 3); return f }, ErrMalformed, "stream: vtable out of range"},
		{"stream_vtable_before_frame", func(t *testing.T, f []byte) []byte {
			put32(f, layoutOf(t, f).stream, 0x7ffffff0)
			return f
		}, ErrMalformed, "stream: vtable out of range"},
		{"stream_vector_past_end", func(t *testing.T, f []byte) []byte {
			put32(f, layoutOf(t, f).streamSender, len(f))
			return f
		}, ErrMalformed, "stream.sender_id: offset out of range"},
		{"message_type_none", func(t *testing.T, f []byte) []byte { f[layoutOf(t, f).messageType] = 0; return f }, ErrNotStream, ""},
		{"message_type_ack", func(t *testing.T, f []byte) []byte { f[layoutOf(t, f).messageType] = 5; return f }, ErrNotStream, ""},
		{"message_type_unknown_garbage_message", func(t *testing.T, f []byte) []byte {
			l := layoutOf(t, f)
			f[l.messageType] = 2
			put32(f, l.message, 0xffffffff) // not followed for other types
			return f
		}, ErrNotStream, ""},
		{"message_absent", func(t *testing.T, f []byte) []byte {
			put16(f, layoutOf(t, f).vt+4+2*slotMessage, 0)
			return f
		}, ErrNotStream, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frame := tc.mutate(t, sampleFrame())
			var e Envelope
			e.TxID = []byte("stale")
			err := Decode(frame, &e)
			require.ErrorIs(t, err, tc.want)
			if errors.Is(err, ErrNotStream) {
				require.Equal(t, "txid-1", string(e.TxID))
				require.Equal(t, "V", string(e.Topic))
				require.Equal(t, Stream{}, e.Stream)
				return
			}
			require.Equal(t, Envelope{}, e, "a malformed frame leaves the envelope zero")
			require.EqualError(t, err, ErrMalformed.Error()+": "+tc.reason)
		})
	}
}

func TestDecodeEmpty(t *testing.T) {
	for _, frame := range [][]byte{nil, {}} {
		var e Envelope
		require.ErrorIs(t, Decode(frame, &e), ErrEmpty)
	}
}

func TestDecodeAbsentAndEmptyFields(t *testing.T) {
	// A stream whose vtable ends at slot 0: only created_at present.
	var e Envelope
	frame := NewEncoder().Stream(nil, []byte{}, nil, Stream{CreatedAt: 7})
	require.NoError(t, Decode(frame, &e))
	require.NotNil(t, e.TxID, "present but empty")
	require.Empty(t, e.TxID)
	require.EqualValues(t, 7, e.Stream.CreatedAt)

	// Drop every field of the envelope but message_type and message.
	l := layoutOf(t, frame)
	for _, slot := range []int{slotTxID, slotTopic, slotMessageID} {
		put16(frame, l.vt+4+2*slot, 0)
	}
	require.NoError(t, Decode(frame, &e))
	require.Nil(t, e.TxID, "absent")
	require.Nil(t, e.Topic)
	require.Nil(t, e.MessageID)
}

// TestDecodeTruncated truncates a frame at every length: each prefix either
// fails as malformed or, when only trailing padding was cut, decodes to the
// same fields.
func TestDecodeTruncated(t *testing.T) {
	frame := sampleFrame()
	var full Envelope
	require.NoError(t, Decode(frame, &full))
	for n := 1; n < len(frame); n++ {
		var e Envelope
		err := Decode(frame[:n:n], &e)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed, "length %d", n)
			continue
		}
		require.Equal(t, full, e, "length %d", n)
	}
}

func TestDecodeIgnoresTrailingBytesAndAlignment(t *testing.T) {
	frame := sampleFrame()
	var want Envelope
	require.NoError(t, Decode(frame, &want))
	shifted := append([]byte{0xee}, append(bytes.Clone(frame), 1, 2, 3)...)
	var e Envelope
	require.NoError(t, Decode(shifted[1:], &e))
	require.Equal(t, want, e)
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	garbage := []byte(`D4,test,1234,{"mydata":42}`)
	notStream := bytes.Clone(NewEncoder().Ack([]byte("txid"), []byte("V")))
	for _, frame := range [][]byte{sampleFrame(), garbage, notStream, nil} {
		var e Envelope
		allocs := testing.AllocsPerRun(100, func() { _ = Decode(frame, &e) })
		require.Zero(t, allocs)
	}
}
