package ingest_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/shared/record"
	"github.com/fleetrelay/fleetrelay/wal"
)

// fuzzReasons maps every reason to the only action it may come with.
var fuzzReasons = map[ingest.Reason]ingest.Action{
	ingest.ReasonStored:            ingest.ActionStore,
	ingest.ReasonTooBig:            ingest.ActionError,
	ingest.ReasonEmpty:             ingest.ActionAck,
	ingest.ReasonNotStream:         ingest.ActionAck,
	ingest.ReasonMalformed:         ingest.ActionError,
	ingest.ReasonUnconfiguredTopic: ingest.ActionAck,
	ingest.ReasonSenderMismatch:    ingest.ActionError,
	ingest.ReasonBadPayload:        ingest.ActionError,
}

// FuzzIngest feeds arbitrary frames to Process (seed corpus: the vehicle
// frames of the conformance vectors, in testdata/fuzz/FuzzIngest). Process
// never panics, its result is consistent, and a stored record always has
// the connection's VIN and a payload that decodes and encodes.
func FuzzIngest(f *testing.F) {
	f.Add([]byte{})
	p := newProcessor(f, ingest.Config{Topics: []string{"V", "alerts", "errors", "connectivity", "blob"}, MaxFrameBytes: 4096})
	f.Fuzz(func(t *testing.T, frame []byte) {
		res := p.Process(frame, testConn(), testNow)
		want, ok := fuzzReasons[res.Reason]
		require.True(t, ok, "unexpected reason %q", res.Reason)
		require.Equal(t, want, res.Action)
		if res.Action != ingest.ActionStore {
			require.Nil(t, res.Frame)
			require.Error(t, res.Err)
			return
		}
		checkFuzzRecord(t, res)
	})
}

func checkFuzzRecord(t *testing.T, res ingest.Result) {
	t.Helper()
	rec := storedRecord(t, res)
	require.NoError(t, res.Err)
	require.Equal(t, testVIN, rec.GetVin())
	require.Equal(t, string(res.Topic), rec.GetTopic())
	require.Equal(t, res.TxID, rec.GetTxid())
	encoded, err := proto.Marshal(rec)
	require.NoError(t, err)
	require.Equal(t, encoded, res.Frame[wal.FrameReserve:], "the in-place encoding is proto.Marshal's")
	if !record.Known(rec.GetTopic()) {
		return
	}
	_, err = record.Unmarshal(rec.GetTopic(), rec.GetPayload())
	require.NoError(t, err)
	if rec.GetTopic() == record.TopicAlerts {
		return // a huge millisecond timestamp still converts a second time
	}
	again, err := record.Normalize(rec.GetTopic(), rec.GetPayload(), testVIN)
	require.NoError(t, err)
	require.Equal(t, rec.GetPayload(), again, "the stored payload is already transformed")
}

// fuzzTopics are the topics FuzzIngestPayload sends: the four known ones,
// a configured opaque one and an unconfigured one.
var fuzzTopics = []string{"V", "alerts", "errors", "connectivity", "blob", "canlogs"}

// FuzzIngestPayload builds valid envelopes around arbitrary payloads, txids
// and senders, so that the protobuf and transform paths are explored (seed
// corpus: the dispatched payloads of the conformance vectors, in
// testdata/fuzz/FuzzIngestPayload). The same properties as FuzzIngest hold,
// and a valid envelope is never answered as malformed.
func FuzzIngestPayload(f *testing.F) {
	f.Add(uint8(0), []byte("txid"), []byte("vehicle_device."+testVIN), []byte{})
	p := newProcessor(f, ingest.Config{Topics: []string{"V", "alerts", "errors", "connectivity", "blob"}})
	f.Fuzz(func(t *testing.T, topicIndex uint8, txid, sender, payload []byte) {
		topic := fuzzTopics[int(topicIndex)%len(fuzzTopics)]
		frame := frameSpec{txid: string(txid), topic: topic, sender: string(sender), payload: payload}.build()
		res := p.Process(frame, testConn(), testNow)
		require.NotEqual(t, ingest.ReasonMalformed, res.Reason)
		require.Equal(t, fuzzReasons[res.Reason], res.Action)
		require.Equal(t, txid, []byte(string(res.TxID)), "the txid is echoed")
		if res.Action != ingest.ActionStore {
			require.Nil(t, res.Frame)
			return
		}
		checkFuzzRecord(t, res)
		if topic == "blob" {
			require.Equal(t, string(payload), string(storedRecord(t, res).GetPayload()))
		}
	})
}
