package app_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/protos/envelope"
)

// vector is one row of the conformance summary.
type vector struct {
	Case          string   `json:"case"`
	VIN           string   `json:"vin"`
	ClientCert    string   `json:"client_cert"`
	FramesSent    int      `json:"frames_sent"`
	SentAs        string   `json:"sent_as"`
	ResponseFiles []string `json:"response_files"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(conformanceDir(t), "summary.json"))
	require.NoError(t, err)
	var vs []vector
	require.NoError(t, json.Unmarshal(data, &vs))
	require.NotEmpty(t, vs)
	return vs
}

// serverConfigFor names the reference config a case was recorded with
// (MANIFEST.md, "Optional set").
func serverConfigFor(name string) string {
	switch {
	case strings.HasPrefix(name, "rate_limit_enforced"):
		return "config_rl_enforced.json"
	case strings.HasPrefix(name, "rate_limit_documented"):
		return "config_rl_documented.json"
	case strings.HasPrefix(name, "reliable_ack_redis"):
		return "config_reliable_redis.json"
	default:
		return "config.json"
	}
}

func readVectorFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(conformanceDir(t), name))
	require.NoError(t, err)
	return b
}

// inputs returns CASE.in.bin, CASE.in.2.bin, ... in send order.
func inputs(t *testing.T, v vector) [][]byte {
	t.Helper()
	frames := [][]byte{readVectorFile(t, v.Case+".in.bin")}
	for i := 2; i <= v.FramesSent; i++ {
		frames = append(frames, readVectorFile(t, v.Case+".in."+itoa(i)+".bin"))
	}
	return frames
}

// outputs returns CASE.out.bin, CASE.out.2.bin, ... in arrival order (the
// summary lists the files sorted by name, not by arrival).
func outputs(t *testing.T, v vector) [][]byte {
	t.Helper()
	var out [][]byte
	for i := 1; ; i++ {
		name := v.Case + ".out." + itoa(i) + ".bin"
		if i == 1 {
			name = v.Case + ".out.bin"
		}
		b, ok := optionalVectorFile(t, name)
		if !ok {
			break
		}
		out = append(out, b)
	}
	require.Len(t, out, len(v.ResponseFiles))
	return out
}

// TestConformance replays every recorded case against the real gateway over
// mTLS websockets and compares the answers byte for byte with the
// reference's, except for the deliberate deviations of expectedAnswers, and
// checks that the WAL holds exactly the records that were acked.
func TestConformance(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Case, func(t *testing.T) {
			switch {
			case strings.Contains(v.Case, "unknown_issuer"):
				checkRefusedIdentity(t, v)
			case v.SentAs == "text":
				checkTextFrame(t, v)
			default:
				checkBinaryCase(t, v)
			}
		})
	}
}

func certName(v vector) string {
	return strings.TrimSuffix(filepath.Base(v.ClientCert), ".crt")
}

func checkBinaryCase(t *testing.T, v vector) {
	g := startGateway(t, serverConfigFor(v.Case), nil)
	ws := g.dial(t, certName(v))
	frames := inputs(t, v)
	for _, f := range frames {
		require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, f))
	}
	want, why := expectedAnswers(t, v, frames)
	got, err := collect(t, ws, len(want))
	require.NoError(t, err, "the connection stays open")
	require.Equal(t, hexAll(want), hexAll(got), why)
	checkStored(t, g, v, frames, got)
}

// expectedAnswers returns the reference's answers with fleetrelay's
// deliberate deviations applied, and the reason for any deviation.
func expectedAnswers(t *testing.T, v vector, frames [][]byte) ([][]byte, string) {
	t.Helper()
	ref := outputs(t, v)
	switch {
	case isDoubleUnknownTypeAck(ref, len(frames)):
		// Reference quirk: an unknown message type is acked twice (the ack
		// branch falls through to a dispatch that acks again). Both frames
		// are identical; fleetrelay sends one.
		return ref[:1], "one ack instead of two identical acks for an unknown message type"
	case strings.HasPrefix(v.Case, "rate_limit_documented"):
		// Reference bug: the documented message_interval_time key is never
		// applied, so its limiter never trips (5 of 5 acked). fleetrelay
		// honours it: message_limit 2 per 30 s acks the first two and drops
		// the rest silently, like the enforced case.
		require.Len(t, ref, 5)
		return ref[:2], "documented rate_limit keys are honoured"
	case strings.HasPrefix(v.Case, "reliable_ack_redis") && len(ref) == 0:
		// Reference: Redis down means no ack (redis is the reliable-ack
		// source). fleetrelay acks once the record is durable in the WAL;
		// a forwarder delivers it later with retries, so acking is safe.
		return [][]byte{ackFor(t, frames[0])}, "ack after the durable WAL append, whatever the datastore's state"
	}
	return ref, "identical to the reference"
}

func isDoubleUnknownTypeAck(ref [][]byte, sent int) bool {
	if sent != 1 || len(ref) != 2 || !bytes.Equal(ref[0], ref[1]) {
		return false
	}
	e, err := decodeAnswer(ref[0])
	return err == nil && e.Type == envelope.TypeStreamAck && len(e.Topic) == 0
}

// decodeAnswer decodes a server frame; an ack is a valid envelope without a
// stream message, which Decode reports as ErrNotStream.
func decodeAnswer(frame []byte) (envelope.Envelope, error) {
	var e envelope.Envelope
	err := envelope.Decode(frame, &e)
	if errors.Is(err, envelope.ErrNotStream) {
		err = nil
	}
	return e, err
}

func ackFor(t *testing.T, frame []byte) []byte {
	t.Helper()
	var e envelope.Envelope
	require.NoError(t, envelope.Decode(frame, &e))
	return slices.Clone(envelope.NewEncoder().Ack(e.TxID, e.Topic))
}

// checkStored asserts that the WAL holds exactly one record per ack of a
// configured topic, each with the certificate VIN and, where the vector has
// one, the reference's dispatched protobuf bytes.
func checkStored(t *testing.T, g *gateway, v vector, frames, answers [][]byte) {
	t.Helper()
	stored := vehicleRecords(g.walRecords(t))
	wantTx := storedTxIDs(t, g, answers)
	// Records of one window are appended concurrently, so their WAL order
	// may differ from the ack order: compare as sets.
	var gotTx []string
	for _, rec := range stored {
		gotTx = append(gotTx, string(rec.GetTxid()))
	}
	require.ElementsMatch(t, wantTx, gotTx, "WAL holds exactly the acked records of configured topics")
	dispatch, hasDispatch := optionalVectorFile(t, v.Case+".dispatch.pb")
	for _, rec := range stored {
		require.Equal(t, v.VIN, rec.GetVin())
		require.Equal(t, "wifi", rec.GetNetworkInterface())
		require.Equal(t, "1.2.0", rec.GetDeviceClientVersion())
		require.Equal(t, "vehicle_device", rec.GetClientType())
		if hasDispatch && len(stored) == 1 {
			require.Equal(t, dispatch, rec.GetPayload(), "payload is what the reference dispatches")
		}
	}
}

// storedTxIDs returns the txids of the acks that acknowledge a stored
// record (topic configured), in order.
func storedTxIDs(t *testing.T, g *gateway, answers [][]byte) []string {
	t.Helper()
	var out []string
	for _, a := range answers {
		e, err := decodeAnswer(a)
		require.NoError(t, err)
		if e.Type == envelope.TypeStreamAck && g.cfg.Records[string(e.Topic)] != nil {
			out = append(out, string(e.TxID))
		}
	}
	return out
}

func optionalVectorFile(t *testing.T, name string) ([]byte, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(conformanceDir(t), name))
	if os.IsNotExist(err) {
		return nil, false
	}
	require.NoError(t, err)
	return b, true
}

// checkTextFrame: the reference closes the TCP connection without a close
// frame and without an answer; so does fleetrelay.
func checkTextFrame(t *testing.T, v vector) {
	g := startGateway(t, "config.json", nil)
	ws := g.dial(t, certName(v))
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, inputs(t, v)[0]))
	got, err := collect(t, ws, 0)
	require.Empty(t, got)
	require.True(t, websocket.IsCloseError(err, websocket.CloseAbnormalClosure), "no close frame: %v", err)
	require.Empty(t, vehicleRecords(g.walRecords(t)))
}

// checkRefusedIdentity: deliberate deviation. The reference upgrades (101)
// and then closes the socket without a frame; fleetrelay checks the
// identity before the upgrade and answers HTTP 403. Either way the vehicle
// gets no websocket and nothing is stored.
func checkRefusedIdentity(t *testing.T, v vector) {
	g := startGateway(t, "config.json", nil)
	cert := clientCert(t, certName(v))
	_, resp, err := dialer(t, &cert).DialContext(t.Context(), "wss://"+g.Addr()+"/", vehicleHeaders())
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.NoError(t, resp.Body.Close())
	require.Empty(t, g.walRecords(t))
}

func hexAll(frames [][]byte) []string {
	out := make([]string, len(frames))
	for i, f := range frames {
		out[i] = hexString(f)
	}
	return out
}
