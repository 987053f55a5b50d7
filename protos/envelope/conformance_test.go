package envelope

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// The conformance vectors are frames recorded from vehicles talking to the
// reference server (../shared/conformance, see its MANIFEST.md).

const (
	vin              = "5YJ3E1EA1KF000001"
	vectorCreatedAt  = 1700000000 // created_at of every recorded vehicle frame
	referenceMaxSize = 1_000_000  // the reference server's frame size limit
)

// answerKind is how the reference server answered a case, per frame.
type answerKind int

const (
	answerAck             answerKind = iota // ack with the frame's txid and topic
	answerError                             // error frame with the frame's txid
	answerErrorNoTxID                       // error frame with an empty txid
	answerAckTwiceNoTopic                   // two acks with the txid (if any), empty topic
	answerNone                              // no frame at all
)

// knownCase is what a recorded case's frames contain and how they were answered.
type knownCase struct {
	err      error  // expected Decode error
	txid     string // expected txid; "" means "txid-<case>"
	topic    string
	deviceID string
	typ      MessageType
	answer   answerKind
	answered int // frames answered, when fewer than sent (rate limiting)
}

var knownCases = map[string]knownCase{
	"alerts":                     {topic: "alerts", deviceID: vin, typ: TypeStream},
	"connectivity_from_vehicle":  {topic: "connectivity", deviceID: vin, typ: TypeStream},
	"errors":                     {topic: "errors", deviceID: vin, typ: TypeStream},
	"malformed_ack_from_vehicle": {err: ErrNotStream, topic: "V", typ: TypeStreamAck, answer: answerAckTwiceNoTopic},
	"malformed_empty":            {err: ErrEmpty, answer: answerAckTwiceNoTopic},
	"malformed_garbage":          {err: ErrMalformed, answer: answerErrorNoTxID},
	"oversize":                   {topic: "V", deviceID: vin, typ: TypeStream, answer: answerErrorNoTxID},
	"rate_limit_documented_keys": {txid: "txid-rate_limit-%d", topic: "V", deviceID: vin, typ: TypeStream},
	"rate_limit_enforced":        {txid: "txid-rate_limit-%d", topic: "V", deviceID: vin, typ: TypeStream, answered: 2},
	"reliable_ack_redis":         {topic: "V", deviceID: vin, typ: TypeStream},
	"reliable_ack_redis_down":    {topic: "V", deviceID: vin, typ: TypeStream, answer: answerNone},
	"text_frame":                 {topic: "V", deviceID: vin, typ: TypeStream, answer: answerNone},
	"unknown_issuer_cert":        {topic: "V", deviceID: "5YJ3E1EA1KF000003", typ: TypeStream, answer: answerNone},
	"v_bad_protobuf":             {topic: "V", deviceID: vin, typ: TypeStream, answer: answerError},
	"v_enums":                    {topic: "V", deviceID: vin, typ: TypeStream},
	"v_resend_unknown_field":     {topic: "V", deviceID: vin, typ: TypeStream},
	"v_scalars":                  {topic: "V", deviceID: vin, typ: TypeStream},
	"v_spoofed_sender":           {topic: "V", deviceID: "BAD123", typ: TypeStream},
	"wrong_topic_sender_bad":     {topic: "canlogs", deviceID: "OTHER", typ: TypeStream, answer: answerError},
	"wrong_topic_sender_ok":      {topic: "canlogs", deviceID: vin, typ: TypeStream},
}

func (k knownCase) wantTxID(name string, index int) string {
	switch {
	case k.txid != "":
		return fmt.Sprintf(k.txid, index)
	case k.err == nil || k.typ != TypeNone:
		return "txid-" + name
	default:
		return ""
	}
}

// vectorFile is one recorded frame: CASE.in.bin is index 1, CASE.in.N.bin is N.
type vectorFile struct {
	name  string // case name
	index int
	path  string
}

// vectorFiles lists the frames of one direction ("in" or "out"), by case and index.
func vectorFiles(t *testing.T, dir, direction string) []vectorFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*."+direction+"*.bin"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no %s frames in %s", direction, dir)
	var files []vectorFile
	for _, p := range paths {
		base := strings.TrimSuffix(filepath.Base(p), ".bin")
		name, suffix, ok := strings.Cut(base, "."+direction)
		require.True(t, ok, p)
		index := 1
		if suffix != "" {
			index, err = strconv.Atoi(strings.TrimPrefix(suffix, "."))
			require.NoError(t, err, p)
		}
		files = append(files, vectorFile{name: name, index: index, path: p})
	}
	sort.Slice(files, func(i, j int) bool {
		a, b := files[i], files[j]
		return a.name < b.name || a.name == b.name && a.index < b.index
	})
	return files
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// caseResult is the part of CASE.result.json these tests use.
type caseResult struct {
	SentFrames int `json:"sent_frames"`
	Responses  []struct {
		MessageType string `json:"message_type"`
		TxID        string `json:"txid"`
		Topic       string `json:"topic"`
	} `json:"responses"`
}

func readResult(t *testing.T, dir, name string) caseResult {
	t.Helper()
	var r caseResult
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(dir, name+".result.json")), &r))
	return r
}

func TestDecodeConformanceFrames(t *testing.T) {
	dir := testenv.ConformanceDir(t)
	for _, v := range vectorFiles(t, dir, "in") {
		t.Run(fmt.Sprintf("%s_%d", v.name, v.index), func(t *testing.T) {
			frame := readFile(t, v.path)
			var e Envelope
			err := Decode(frame, &e)
			want, known := knownCases[v.name]
			if !known {
				checkUnlistedCase(t, readResult(t, dir, v.name), frame, &e, err)
				return
			}
			require.ErrorIs(t, err, want.err)
			require.Equal(t, want.wantTxID(v.name, v.index), string(e.TxID))
			require.Equal(t, want.topic, string(e.Topic))
			require.Equal(t, want.typ, e.Type)
			if want.err == nil {
				require.Equal(t, want.deviceID, string(e.Stream.DeviceID))
				checkVehicleFrame(t, &e)
			}
		})
	}
}

// checkVehicleFrame checks what every recorded vehicle stream frame holds.
func checkVehicleFrame(t *testing.T, e *Envelope) {
	t.Helper()
	require.Equal(t, TypeStream, e.Type)
	require.Equal(t, "msgid-"+string(e.TxID), string(e.MessageID))
	require.Equal(t, "vehicle_device", string(e.Stream.DeviceType))
	require.Equal(t, "vehicle_device."+string(e.Stream.DeviceID), string(e.Stream.SenderID))
	require.EqualValues(t, vectorCreatedAt, e.Stream.CreatedAt)
	require.Zero(t, e.Stream.DeliveredAtEpochMs)
	require.NotEmpty(t, e.Stream.Payload)
}

// checkUnlistedCase checks a frame of a case missing from knownCases
// against the answers recorded for it, read through the decision table:
// two acks without a topic mean an empty frame or an envelope without a
// stream; one error without a txid means bytes that are not an envelope
// (unless the frame was over the size limit); anything else means a valid
// vehicle frame, whose txid and topic the recorded acks echo.
func checkUnlistedCase(t *testing.T, r caseResult, frame []byte, e *Envelope, err error) {
	t.Helper()
	resp := r.Responses
	switch {
	case len(frame) == 0:
		require.ErrorIs(t, err, ErrEmpty)
	case r.SentFrames == 1 && len(resp) == 2 && resp[0].Topic == "" && isAck(resp[0].MessageType):
		require.ErrorIs(t, err, ErrNotStream)
		require.Equal(t, resp[0].TxID, string(e.TxID))
	case r.SentFrames == 1 && len(resp) == 1 && resp[0].TxID == "" && !isAck(resp[0].MessageType) &&
		len(frame) <= referenceMaxSize:
		require.ErrorIs(t, err, ErrMalformed)
	default:
		require.NoError(t, err, "expected a valid vehicle frame")
		checkVehicleFrame(t, e)
		for _, a := range resp {
			if a.TxID == string(e.TxID) && isAck(a.MessageType) {
				require.Equal(t, a.Topic, string(e.Topic))
			}
		}
	}
}

func isAck(messageType string) bool { return strings.HasPrefix(messageType, "5") }

// TestStreamReproducesVehicleFrames re-encodes every decoded vehicle frame
// and expects the recorded bytes: vehicles lay frames out exactly as
// Encoder.Stream does. The vehicle-sent ack (message_type 5) is laid out like
// the server's ack but carries a message_id, so it is rebuilt with ack.
func TestStreamReproducesVehicleFrames(t *testing.T) {
	enc := NewEncoder()
	for _, v := range vectorFiles(t, testenv.ConformanceDir(t), "in") {
		t.Run(fmt.Sprintf("%s_%d", v.name, v.index), func(t *testing.T) {
			frame := readFile(t, v.path)
			var e Envelope
			switch err := Decode(frame, &e); {
			case err == nil:
				require.Equal(t, frame, enc.Stream(e.TxID, e.Topic, e.MessageID, e.Stream))
			case e.Type == TypeStreamAck:
				require.Equal(t, frame, enc.ack(e.TxID, e.Topic, e.MessageID))
			default:
				k, ok := knownCases[v.name]
				require.True(t, ok, "unlisted case does not decode: %v", err)
				require.ErrorIs(t, err, k.err)
			}
		})
	}
}

// TestEncoderReproducesAnswers decodes every recorded server answer and
// rebuilds it from its fields: acks from (txid, topic), error frames from
// (txid, text), byte for byte.
func TestEncoderReproducesAnswers(t *testing.T) {
	enc := NewEncoder()
	for _, v := range vectorFiles(t, testenv.ConformanceDir(t), "out") {
		t.Run(fmt.Sprintf("%s_%d", v.name, v.index), func(t *testing.T) {
			frame := readFile(t, v.path)
			var e Envelope
			err := Decode(frame, &e)
			switch e.Type {
			case TypeStreamAck:
				require.ErrorIs(t, err, ErrNotStream)
				require.Empty(t, e.MessageID)
				require.Equal(t, frame, enc.Ack(e.TxID, e.Topic))
			case TypeStream:
				require.NoError(t, err)
				require.Equal(t, ErrorText, string(e.Stream.Payload))
				require.Empty(t, e.Topic)
				require.Equal(t, frame, enc.Error(e.TxID, ErrorText))
			default:
				require.Failf(t, "unexpected answer", "type %d, err %v", e.Type, err)
			}
		})
	}
}

// TestAnswersFollowDecisionTable builds the reference server's answers from
// the recorded vehicle frames (decision table of the upstream report, §2.5)
// and compares them with the recorded answers, count and order included.
func TestAnswersFollowDecisionTable(t *testing.T) {
	dir := testenv.ConformanceDir(t)
	outs := map[string][][]byte{}
	for _, v := range vectorFiles(t, dir, "out") {
		outs[v.name] = append(outs[v.name], readFile(t, v.path))
	}
	ins := map[string][][]byte{}
	for _, v := range vectorFiles(t, dir, "in") {
		ins[v.name] = append(ins[v.name], readFile(t, v.path))
	}
	for name, k := range knownCases {
		t.Run(name, func(t *testing.T) {
			require.Contains(t, ins, name, "case missing from the conformance vectors")
			want := outs[name]
			got := referenceAnswers(t, k, ins[name])
			require.Len(t, got, len(want))
			for i := range want {
				require.Equal(t, want[i], got[i], "answer %d", i+1)
			}
		})
	}
}

// referenceAnswers answers a case's frames as the reference server did.
func referenceAnswers(t *testing.T, k knownCase, frames [][]byte) [][]byte {
	t.Helper()
	if k.answered > 0 {
		frames = frames[:k.answered]
	}
	var answers [][]byte
	for _, frame := range frames {
		var e Envelope
		err := Decode(frame, &e)
		require.ErrorIs(t, err, k.err)
		enc := NewEncoder() // a fresh encoder per answer: results outlive the call
		switch k.answer {
		case answerAck:
			answers = append(answers, enc.Ack(e.TxID, e.Topic))
		case answerError:
			answers = append(answers, enc.Error(e.TxID, ErrorText))
		case answerErrorNoTxID:
			require.True(t, err != nil || len(frame) > referenceMaxSize)
			answers = append(answers, enc.Error(nil, ErrorText))
		case answerAckTwiceNoTopic:
			ack := enc.Ack(e.TxID, nil)
			answers = append(answers, ack, ack)
		case answerNone:
		}
	}
	return answers
}
