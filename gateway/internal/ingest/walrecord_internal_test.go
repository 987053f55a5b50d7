package ingest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/wal"
)

func TestWALRecordFieldNumbers(t *testing.T) {
	fields := (&walpb.Record{}).ProtoReflect().Descriptor().Fields()
	for name, num := range map[string]protowire.Number{
		"vin": recordVIN, "topic": recordTopic, "txid": recordTxID, "received_at_ms": recordReceivedAtMs,
		"device_client_version": recordDeviceClientVersion, "network_interface": recordNetworkInterface,
		"connection_id": recordConnectionID, "payload": recordPayload, "client_type": recordClientType,
	} {
		f := fields.ByName(protoreflect.Name(name))
		require.NotNil(t, f, name)
		require.Equal(t, num, f.Number(), name)
	}
	// encode writes every field but generated, which a vehicle record never sets.
	require.Equal(t, 10, fields.Len())
}

// TestWALRecordEncodesLikeProtoMarshal pins the in-place encoding to
// proto.Marshal's output for the same record, including empty fields and
// payloads whose length prefix is wider or narrower than estimated.
func TestWALRecordEncodesLikeProtoMarshal(t *testing.T) {
	full := connStrings{deviceClientVersion: "1.2.0", networkInterface: "wifi", connectionID: "c-1", clientType: "vehicle_device"}
	tests := []struct {
		name    string
		rec     walRecord
		conn    connStrings
		payload []byte
	}{
		{name: "all_fields", rec: walRecord{vin: "VIN1", topic: "blob", txid: []byte("tx"), receivedMs: 1700000000123}, conn: full, payload: []byte("opaque")},
		{name: "empty_fields", rec: walRecord{topic: "blob"}, payload: nil},
		{name: "empty_payload", rec: walRecord{vin: "V", topic: "blob", txid: []byte("t")}, conn: full, payload: []byte{}},
		{name: "negative_time", rec: walRecord{vin: "V", topic: "blob", receivedMs: -5}, conn: full, payload: []byte("x")},
		// The estimate (payload + VIN + slack) needs 2 length bytes; the
		// payload itself needs 1.
		{name: "prefix_narrower", rec: walRecord{vin: strings.Repeat("v", 120), topic: "blob"}, payload: []byte("short")},
		{name: "prefix_same", rec: walRecord{vin: "V", topic: "blob"}, payload: []byte(strings.Repeat("p", 127))},
		{name: "long_payload", rec: walRecord{vin: "V", topic: "blob"}, conn: full, payload: []byte(strings.Repeat("p", 20000))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf, txid, n, err := tt.rec.encode(tt.payload, tt.conn)
			require.NoError(t, err)
			require.Equal(t, len(tt.payload), n)
			want, err := proto.Marshal(&walpb.Record{Vin: tt.rec.vin, Topic: tt.rec.topic, Txid: tt.rec.txid,
				ReceivedAtMs: tt.rec.receivedMs, DeviceClientVersion: tt.conn.deviceClientVersion,
				NetworkInterface: tt.conn.networkInterface, ConnectionId: tt.conn.connectionID,
				Payload: tt.payload, ClientType: tt.conn.clientType})
			require.NoError(t, err)
			require.Len(t, buf, wal.FrameReserve+len(want))
			require.Equal(t, want, buf[wal.FrameReserve:])
			require.Equal(t, string(tt.rec.txid), string(txid))
			require.Equal(t, len(txid), cap(txid), "appending to the txid cannot overwrite the record")
		})
	}
}

// The prefix is wider than estimated when normalization grows the payload
// well beyond the slack: a scientific-notation string written out in full.
func TestWALRecordPrefixWiderThanEstimate(t *testing.T) {
	var payload []byte
	for range 3 {
		var value []byte
		value = protowire.AppendTag(value, 1, protowire.BytesType) // Value.string_value
		value = protowire.AppendString(value, "3.4e38")            // written out: 39 digits and 5 decimals
		var datum []byte
		datum = protowire.AppendTag(datum, 1, protowire.VarintType) // Datum.key
		datum = protowire.AppendVarint(datum, 1)
		datum = protowire.AppendTag(datum, 2, protowire.BytesType) // Datum.value
		datum = protowire.AppendBytes(datum, value)
		payload = protowire.AppendTag(payload, 1, protowire.BytesType) // Payload.data
		payload = protowire.AppendBytes(payload, datum)
	}

	rec := walRecord{vin: "V", topic: "V"}
	buf, _, n, err := rec.encode(payload, connStrings{})
	require.NoError(t, err)
	require.Greater(t, n, len(payload)+len(rec.vin)+payloadSlack, "the case must outgrow the estimate")
	require.Greater(t, protowire.SizeVarint(uint64(n)), protowire.SizeVarint(uint64(len(payload)+len(rec.vin)+payloadSlack)))
	var got walpb.Record
	require.NoError(t, proto.Unmarshal(buf[wal.FrameReserve:], &got))
	require.Len(t, got.GetPayload(), n)
	want, err := proto.Marshal(&got)
	require.NoError(t, err)
	require.Equal(t, want, buf[wal.FrameReserve:])
}
