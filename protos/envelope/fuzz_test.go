package envelope

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecode feeds arbitrary frames to Decode. It must never panic; every
// error is one of the three sentinels; a malformed frame leaves the envelope
// zero; and whatever decodes re-encodes to a frame that decodes to the same
// fields. The seed corpus (testdata/fuzz/FuzzDecode) holds the conformance
// frames and truncations of them.
func FuzzDecode(f *testing.F) {
	enc := NewEncoder()
	f.Add([]byte(nil))
	f.Add(sampleFrame())
	f.Add(bytes.Clone(enc.Ack([]byte("txid"), []byte("V"))))
	f.Add(bytes.Clone(enc.Error([]byte("txid"), ErrorText)))
	f.Fuzz(func(t *testing.T, frame []byte) {
		var e Envelope
		err := Decode(frame, &e)
		switch {
		case err == nil:
			requireStreamRoundTrip(t, &e)
		case errors.Is(err, ErrNotStream):
			requireAckRoundTrip(t, &e)
		case errors.Is(err, ErrEmpty):
			require.Empty(t, frame)
		default:
			require.ErrorIs(t, err, ErrMalformed)
			require.Equal(t, Envelope{}, e)
		}
	})
}

func requireStreamRoundTrip(t *testing.T, e *Envelope) {
	t.Helper()
	require.Equal(t, TypeStream, e.Type)
	frame := NewEncoder().Stream(e.TxID, e.Topic, e.MessageID, e.Stream)
	var again Envelope
	require.NoError(t, Decode(frame, &again))
	requireSameHeader(t, e, &again)
	requireSameStream(t, e.Stream, again.Stream)
}

func requireAckRoundTrip(t *testing.T, e *Envelope) {
	t.Helper()
	require.Equal(t, Stream{}, e.Stream)
	frame := NewEncoder().ack(e.TxID, e.Topic, e.MessageID)
	var again Envelope
	require.ErrorIs(t, Decode(frame, &again), ErrNotStream)
	requireSameHeader(t, e, &again)
}

// requireSameHeader compares envelope byte fields treating nil and empty alike.
func requireSameHeader(t *testing.T, want, got *Envelope) {
	t.Helper()
	require.Equal(t, string(want.TxID), string(got.TxID))
	require.Equal(t, string(want.Topic), string(got.Topic))
	require.Equal(t, string(want.MessageID), string(got.MessageID))
}
