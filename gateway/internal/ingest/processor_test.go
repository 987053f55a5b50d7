package ingest_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"
	"github.com/fleetrelay/fleetrelay/protos/envelope"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/record"
)

const testVIN = "5YJ3E1EA1KF000009"

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 123_000_000, time.UTC)

func testConn() *ingest.Conn {
	return &ingest.Conn{VIN: testVIN, ClientType: "vehicle_device", DeviceClientVersion: "1.2.0",
		NetworkInterface: "cellular", ConnectionID: "conn-1"}
}

func newProcessor(t testing.TB, cfg ingest.Config) *ingest.Processor {
	t.Helper()
	p, err := ingest.NewProcessor(cfg, ingest.Settings{})
	require.NoError(t, err)
	return p
}

// frameSpec describes a stream frame to build.
type frameSpec struct {
	txid, topic, sender, deviceID string
	payload                       []byte
}

func (f frameSpec) build() []byte {
	s := envelope.Stream{CreatedAt: 1700000000, SenderID: []byte(f.sender), Payload: f.payload,
		DeviceType: []byte("vehicle_device"), DeviceID: []byte(f.deviceID)}
	return bytes.Clone(envelope.NewEncoder().Stream([]byte(f.txid), []byte(f.topic), []byte("msgid"), s))
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	return b
}

func vPayload(t testing.TB, vin string) []byte {
	t.Helper()
	return marshal(t, &vehiclepb.Payload{Vin: vin, Data: []*vehiclepb.Datum{{
		Key: vehiclepb.Field_Location, Value: &vehiclepb.Value{Value: &vehiclepb.Value_StringValue{StringValue: "(1.5 N, 2.5 W)"}},
	}}})
}

// notStreamFrame is a valid envelope whose message_type is 5 (an ack).
func notStreamFrame(txid string) []byte {
	return bytes.Clone(envelope.NewEncoder().Ack([]byte(txid), []byte("V")))
}

func TestProcessDecisionTable(t *testing.T) {
	okSender := "vehicle_device." + testVIN
	tests := []struct {
		name       string
		frame      []byte
		wantAction ingest.Action
		wantReason ingest.Reason
		wantTxID   string
		wantTopic  string
	}{
		{name: "too_big", frame: make([]byte, ingest.DefaultMaxFrameBytes+1), wantAction: ingest.ActionError, wantReason: ingest.ReasonTooBig},
		{name: "empty", frame: []byte{}, wantAction: ingest.ActionAck, wantReason: ingest.ReasonEmpty},
		{name: "not_stream_keeps_txid", frame: notStreamFrame("tx-ack"), wantAction: ingest.ActionAck, wantReason: ingest.ReasonNotStream, wantTxID: "tx-ack"},
		{name: "garbage", frame: []byte("a,b,c,d,e,f,g,h,i,j,k,l,m"), wantAction: ingest.ActionError, wantReason: ingest.ReasonMalformed},
		{name: "unconfigured_topic_other_sender", frame: frameSpec{txid: "t1", topic: "canlogs", sender: "vehicle_device.OTHER"}.build(),
			wantAction: ingest.ActionError, wantReason: ingest.ReasonSenderMismatch, wantTxID: "t1"},
		{name: "unconfigured_topic_device_id_not_enough", frame: frameSpec{txid: "t1", topic: "canlogs", sender: "x", deviceID: testVIN}.build(),
			wantAction: ingest.ActionError, wantReason: ingest.ReasonSenderMismatch, wantTxID: "t1"},
		{name: "unconfigured_topic_wrong_client_type", frame: frameSpec{txid: "t1", topic: "canlogs", sender: "energy_device." + testVIN}.build(),
			wantAction: ingest.ActionError, wantReason: ingest.ReasonSenderMismatch, wantTxID: "t1"},
		{name: "unconfigured_topic_sender_id", frame: frameSpec{txid: "t2", topic: "canlogs", sender: okSender}.build(),
			wantAction: ingest.ActionAck, wantReason: ingest.ReasonUnconfiguredTopic, wantTxID: "t2", wantTopic: "canlogs"},
		{name: "unconfigured_topic_bare_vin", frame: frameSpec{txid: "t3", topic: "canlogs", sender: testVIN}.build(),
			wantAction: ingest.ActionAck, wantReason: ingest.ReasonUnconfiguredTopic, wantTxID: "t3", wantTopic: "canlogs"},
		{name: "unconfigured_known_topic_bad_payload", frame: frameSpec{txid: "t4", topic: "errors", sender: okSender, payload: []byte{0xff}}.build(),
			wantAction: ingest.ActionError, wantReason: ingest.ReasonBadPayload, wantTxID: "t4"},
		{name: "unconfigured_known_topic_good_payload", frame: frameSpec{txid: "t5", topic: "errors", sender: okSender, payload: marshal(t, &vehiclepb.VehicleErrors{})}.build(),
			wantAction: ingest.ActionAck, wantReason: ingest.ReasonUnconfiguredTopic, wantTxID: "t5", wantTopic: "errors"},
		{name: "configured_bad_payload", frame: frameSpec{txid: "t6", topic: "V", sender: okSender, payload: []byte{0xff, 0xff, 0xff, 0xff}}.build(),
			wantAction: ingest.ActionError, wantReason: ingest.ReasonBadPayload, wantTxID: "t6"},
		{name: "configured_stored", frame: frameSpec{txid: "t7", topic: "V", sender: okSender, payload: vPayload(t, "")}.build(),
			wantAction: ingest.ActionStore, wantReason: ingest.ReasonStored, wantTxID: "t7", wantTopic: "V"},
		{name: "configured_sender_not_checked", frame: frameSpec{txid: "t8", topic: "V", sender: "BAD123", deviceID: "BAD123", payload: vPayload(t, "BAD123")}.build(),
			wantAction: ingest.ActionStore, wantReason: ingest.ReasonStored, wantTxID: "t8", wantTopic: "V"},
		{name: "configured_opaque_topic", frame: frameSpec{txid: "t9", topic: "blob", payload: []byte{0xff, 0x00}}.build(),
			wantAction: ingest.ActionStore, wantReason: ingest.ReasonStored, wantTxID: "t9", wantTopic: "blob"},
	}
	p := newProcessor(t, ingest.Config{Topics: []string{"V", "alerts", "blob"}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := p.Process(tt.frame, testConn(), testNow)
			require.Equal(t, tt.wantAction, res.Action, "err: %v", res.Err)
			require.Equal(t, tt.wantReason, res.Reason)
			require.Equal(t, tt.wantTxID, string(res.TxID))
			require.Equal(t, tt.wantTopic, string(res.Topic))
			require.Equal(t, tt.wantAction == ingest.ActionStore, res.Frame != nil)
			require.Equal(t, tt.wantAction == ingest.ActionStore, res.Err == nil)
		})
	}
}

func TestProcessErrorsAreTyped(t *testing.T) {
	p := newProcessor(t, ingest.Config{Topics: []string{"V"}, MaxFrameBytes: 64,
		RateLimit: ratelimit.Config{Enabled: true, MessageLimit: 4, MessageIntervalTime: 60}})
	tests := []struct {
		name  string
		frame []byte
		want  error
	}{
		{name: "too_big", frame: make([]byte, 65), want: ingest.ErrFrameTooBig},
		{name: "at_the_limit_is_parsed", frame: make([]byte, 64), want: envelope.ErrMalformed},
		{name: "empty", frame: nil, want: envelope.ErrEmpty},
		{name: "garbage", frame: []byte{1, 2, 3}, want: envelope.ErrMalformed},
		{name: "rate_limited", frame: nil, want: ingest.ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := p.Process(tt.frame, testConn(), testNow)
			require.ErrorIs(t, res.Err, tt.want)
		})
	}
}

func TestStoredRecord(t *testing.T) {
	p := newProcessor(t, ingest.Config{Topics: []string{"V"}})
	frame := frameSpec{txid: "tx-42", topic: "V", sender: "SPOOF", deviceID: "SPOOF", payload: vPayload(t, "SPOOFEDVIN")}.build()
	res := p.Process(frame, testConn(), testNow)
	require.Equal(t, ingest.ActionStore, res.Action)
	rec := storedRecord(t, res)
	require.Equal(t, testVIN, rec.GetVin())
	require.Equal(t, "V", rec.GetTopic())
	require.Equal(t, []byte("tx-42"), rec.GetTxid())
	require.Equal(t, testNow.UnixMilli(), rec.GetReceivedAtMs())
	require.Equal(t, "1.2.0", rec.GetDeviceClientVersion())
	require.Equal(t, "cellular", rec.GetNetworkInterface())
	require.Equal(t, "conn-1", rec.GetConnectionId())
	require.Equal(t, "vehicle_device", rec.GetClientType())
	require.False(t, rec.GetGenerated())

	msg, err := record.Unmarshal("V", rec.GetPayload())
	require.NoError(t, err)
	want := &vehiclepb.Payload{Vin: testVIN, Data: []*vehiclepb.Datum{{Key: vehiclepb.Field_Location, Value: &vehiclepb.Value{
		Value: &vehiclepb.Value_LocationValue{LocationValue: &vehiclepb.LocationValue{Latitude: 1.5, Longitude: -2.5}}}}}}
	require.True(t, proto.Equal(want, msg), "got %v", msg)

	for i := range frame {
		frame[i] = 0 // the record owns its bytes
	}
	rec = storedRecord(t, res)
	require.Equal(t, []byte("tx-42"), rec.GetTxid())
	require.Equal(t, []byte("tx-42"), res.TxID)
	_, err = record.Unmarshal("V", rec.GetPayload())
	require.NoError(t, err)
}

func TestStoredOpaquePayloadIsCopied(t *testing.T) {
	p := newProcessor(t, ingest.Config{Topics: []string{"blob"}})
	frame := frameSpec{txid: "t", topic: "blob", payload: []byte("opaque bytes")}.build()
	res := p.Process(frame, testConn(), testNow)
	require.Equal(t, ingest.ActionStore, res.Action)
	for i := range frame {
		frame[i] = 0
	}
	require.Equal(t, []byte("opaque bytes"), storedRecord(t, res).GetPayload())
}

// Request headers may hold any bytes; a stored record must still encode.
func TestInvalidUTF8ConnectionStringsAreReplaced(t *testing.T) {
	p := newProcessor(t, ingest.Config{Topics: []string{"V", "connectivity"}})
	c := testConn()
	c.DeviceClientVersion = "1.2\xff"
	c.NetworkInterface = "wi\xfefi"
	res := p.Process(frameSpec{txid: "t", topic: "V", payload: vPayload(t, "")}.build(), c, testNow)
	require.Equal(t, ingest.ActionStore, res.Action)
	rec := storedRecord(t, res)
	require.Equal(t, "1.2\uFFFD", rec.GetDeviceClientVersion())
	require.Equal(t, "wi\uFFFDfi", rec.GetNetworkInterface())
	_, err := proto.Marshal(rec)
	require.NoError(t, err)

	rec = p.Connectivity(c, vehiclepb.ConnectivityEvent_CONNECTED, testNow)
	require.NotNil(t, rec)
	_, err = proto.Marshal(rec)
	require.NoError(t, err)
}

func TestRateLimitPerVIN(t *testing.T) {
	p := newProcessor(t, ingest.Config{Topics: []string{"V"},
		RateLimit: ratelimit.Config{Enabled: true, MessageLimit: 2, MessageIntervalTime: 30}})
	frame := frameSpec{txid: "t", topic: "V", payload: vPayload(t, "")}.build()
	other := testConn()
	other.VIN = "OTHERVIN"
	tests := []struct {
		name string
		conn *ingest.Conn
		at   time.Duration
		want ingest.Action
	}{
		{name: "first", conn: testConn(), want: ingest.ActionStore},
		{name: "second", conn: testConn(), want: ingest.ActionStore},
		{name: "third_dropped", conn: testConn(), want: ingest.ActionDrop},
		{name: "still_dropped", conn: testConn(), want: ingest.ActionDrop},
		{name: "other_vin_unaffected", conn: other, want: ingest.ActionStore},
		{name: "one_back_after_15s", conn: testConn(), at: 15 * time.Second, want: ingest.ActionStore},
		{name: "then_dropped_again", conn: testConn(), at: 15 * time.Second, want: ingest.ActionDrop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := p.Process(frame, tt.conn, testNow.Add(tt.at))
			require.Equal(t, tt.want, res.Action)
			if tt.want == ingest.ActionDrop {
				require.Equal(t, ingest.ReasonRateLimited, res.Reason)
				require.Nil(t, res.TxID)
				require.Nil(t, res.Frame)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     ingest.Config
		wantErr string
	}{
		{name: "ok", cfg: ingest.Config{Topics: []string{"V"}}},
		{name: "no_topics_ok", cfg: ingest.Config{}},
		{name: "empty_topic", cfg: ingest.Config{Topics: []string{""}}, wantErr: "records: empty topic"},
		{name: "negative_max_frame", cfg: ingest.Config{MaxFrameBytes: -1}, wantErr: "max frame bytes"},
		{name: "bad_rate_limit", cfg: ingest.Config{RateLimit: ratelimit.Config{Enabled: true}}, wantErr: "rate_limit.message_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ingest.NewProcessor(tt.cfg, ingest.Settings{})
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestActionString(t *testing.T) {
	tests := []struct {
		action ingest.Action
		want   string
	}{
		{ingest.ActionStore, "store"}, {ingest.ActionAck, "ack"}, {ingest.ActionError, "error"},
		{ingest.ActionDrop, "drop"}, {ingest.Action(0), "action(0)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, tt.action.String())
		})
	}
}

// storedRecord decodes the WAL record of a stored frame (nil otherwise).
func storedRecord(t testing.TB, res ingest.Result) *walpb.Record {
	t.Helper()
	rec, err := res.DecodeRecord()
	require.NoError(t, err)
	return rec
}
