package envelope

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAckLayout checks the annotated ack of the upstream report (§2.4):
// txid "demo-V", topic "V", 80 bytes.
func TestAckLayout(t *testing.T) {
	want := strings.Join([]string{
		"14000000",                       // root uoffset -> table @20
		"0000",                           // padding
		"0e001800",                       // vtable: 14 bytes, table size 24
		"14001000" + "0f000800" + "0400", // txid@+20 topic@+16 message_type@+15 message@+8 message_id@+4
		"0e000000",                       // table: soffset to vtable
		"14000000",                       // message_id -> @44
		"2c000000",                       // message -> @72
		"00000005",                       // padding, message_type 5
		"10000000",                       // topic -> @52
		"14000000",                       // txid -> @60
		"0000000000000000",               // message_id: empty, NUL, padding
		"0100000056000000",               // topic "V", NUL, padding
		"0600000064656d6f2d560000",       // txid "demo-V", NUL, padding
		"0000000000000000",               // message: empty byte vector
	}, "")
	got := NewEncoder().Ack([]byte("demo-V"), []byte("V"))
	require.Equal(t, want, hex.EncodeToString(got))
	require.Len(t, got, 80)
}

func pad4(n int) int { return (n + 3) &^ 3 }

func TestAckSize(t *testing.T) {
	enc := NewEncoder()
	for _, tc := range []struct {
		name        string
		txid, topic string
	}{
		{"both_empty", "", ""},
		{"short", "t", "V"},
		{"aligned_txid", "txid", "alerts"},
		{"long", strings.Repeat("x", 37), "connectivity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := enc.Ack([]byte(tc.txid), []byte(tc.topic))
			require.Len(t, got, 68+pad4(len(tc.topic)+1)+pad4(len(tc.txid)+1))
			var e Envelope
			require.ErrorIs(t, Decode(got, &e), ErrNotStream)
			require.Equal(t, TypeStreamAck, e.Type)
			require.Equal(t, tc.txid, string(e.TxID))
			require.Equal(t, tc.topic, string(e.Topic))
			require.NotNil(t, e.MessageID, "message_id is present")
			require.Empty(t, e.MessageID)
		})
	}
}

// TestErrorFrame checks the error frame's shape: a stream message whose
// vtable stops at device_id (created_at absent, delivered_at trimmed).
func TestErrorFrame(t *testing.T) {
	frame := bytes.Clone(NewEncoder().Error([]byte("txid-9"), ErrorText))
	var e Envelope
	require.NoError(t, Decode(frame, &e))
	require.Equal(t, "txid-9", string(e.TxID))
	require.Equal(t, ErrorText, string(e.Stream.Payload))
	for _, b := range [][]byte{e.Topic, e.MessageID, e.Stream.SenderID, e.Stream.DeviceType, e.Stream.DeviceID} {
		require.NotNil(t, b)
		require.Empty(t, b)
	}
	l := layoutOf(t, frame)
	require.EqualValues(t, 4+2*(slotDeviceID+1), binary.LittleEndian.Uint16(frame[l.svt:]), "stream vtable size")
	require.Zero(t, binary.LittleEndian.Uint16(frame[l.svt+4+2*slotCreatedAt:]), "created_at absent")
}

func TestStreamRoundTrip(t *testing.T) {
	enc := NewEncoder()
	tests := []struct {
		name                  string
		txid, topic, msgID    string
		stream                Stream
		wantCreatedAtInVtable bool
	}{
		{"all_fields", "txid-1", "V", "msgid-1", sampleStream, true},
		{"zero_scalars", "t", "alerts", "", Stream{Payload: []byte{1}}, false},
		{"delivered_only", "t", "errors", "m", Stream{DeliveredAtEpochMs: 1 << 62}, false},
		{"all_empty", "", "", "", Stream{}, false},
		{"binary_with_nul", "a\x00b", "V", "\xff", Stream{SenderID: []byte{0, 0, 0}, Payload: make([]byte, 4096)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frame := enc.Stream([]byte(tc.txid), []byte(tc.topic), []byte(tc.msgID), tc.stream)
			var e Envelope
			require.NoError(t, Decode(frame, &e))
			require.Equal(t, tc.txid, string(e.TxID))
			require.Equal(t, tc.topic, string(e.Topic))
			require.Equal(t, tc.msgID, string(e.MessageID))
			requireSameStream(t, tc.stream, e.Stream)
			l := layoutOf(t, frame)
			present := binary.LittleEndian.Uint16(frame[l.svt+4+2*slotCreatedAt:]) != 0
			require.Equal(t, tc.wantCreatedAtInVtable, present, "zero created_at is left out")
		})
	}
}

// requireSameStream compares streams treating nil and empty byte fields alike.
func requireSameStream(t *testing.T, want, got Stream) {
	t.Helper()
	require.Equal(t, want.CreatedAt, got.CreatedAt)
	require.Equal(t, want.DeliveredAtEpochMs, got.DeliveredAtEpochMs)
	require.Equal(t, string(want.SenderID), string(got.SenderID))
	require.Equal(t, string(want.Payload), string(got.Payload))
	require.Equal(t, string(want.DeviceType), string(got.DeviceType))
	require.Equal(t, string(want.DeviceID), string(got.DeviceID))
}

// TestEncoderReuse builds frames of growing and shrinking size with one
// Encoder and checks each against a fresh Encoder's output.
func TestEncoderReuse(t *testing.T) {
	reused := NewEncoder()
	for i, size := range []int{10, 100_000, 3, 0, 2_000_000, 17} {
		payload := bytes.Repeat([]byte{byte(i)}, size)
		txid := []byte(strings.Repeat("t", i))
		s := Stream{Payload: payload, CreatedAt: uint32(i)}
		require.Equal(t, NewEncoder().Stream(txid, []byte("V"), nil, s), reused.Stream(txid, []byte("V"), nil, s))
		require.Equal(t, NewEncoder().Ack(txid, []byte("V")), reused.Ack(txid, []byte("V")))
		require.Equal(t, NewEncoder().Error(txid, ErrorText), reused.Error(txid, ErrorText))
	}
}

func TestEncoderDoesNotAllocate(t *testing.T) {
	enc := NewEncoder()
	txid, topic := []byte("txid-0123456789"), []byte("V")
	tests := []struct {
		name string
		fn   func()
	}{
		{"ack", func() { enc.Ack(txid, topic) }},
		{"error", func() { enc.Error(txid, ErrorText) }},
		{"stream", func() { enc.Stream(txid, topic, txid, sampleStream) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn() // first call may grow the buffer
			require.Zero(t, testing.AllocsPerRun(100, tc.fn))
		})
	}
}
