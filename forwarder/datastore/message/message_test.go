package message

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
)

func TestBuild(t *testing.T) {
	rec := datastore.Record{Partition: 2, Index: 7, WAL: &walpb.Record{
		Vin: "VIN1", Topic: "V", Txid: []byte("tx"), ReceivedAtMs: 1700000000123,
		DeviceClientVersion: "1.2.0", Payload: []byte{},
	}}
	opaque := datastore.Record{Index: 1, WAL: &walpb.Record{Vin: "VIN1", Topic: "canlogs", Payload: []byte("raw")}}
	bad := datastore.Record{Index: 1, WAL: &walpb.Record{Vin: "VIN1", Topic: "V", Payload: []byte{0xff, 0xff}}}
	tests := []struct {
		name      string
		set       datastore.Settings
		rec       datastore.Record
		wantDest  string
		wantValue string
		wantErr   bool
	}{
		{"namespace", datastore.Settings{Namespace: "tesla"}, rec, "tesla_V", "", false},
		{"empty_namespace_keeps_underscore", datastore.Settings{}, rec, "_V", "", false},
		{"decoded_json", datastore.Settings{TransmitDecodedRecords: true}, rec, "_V", `{"data":[],"createdAt":null,"vin":"","isResend":false}`, false},
		{"opaque_topic_passes_through", datastore.Settings{TransmitDecodedRecords: true}, opaque, "_canlogs", "raw", false},
		{"undecodable_is_permanent", datastore.Settings{TransmitDecodedRecords: true}, bad, "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewBuilder(tc.set).Build(tc.rec)
			if tc.wantErr {
				require.True(t, datastore.IsPermanent(err), "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantDest, m.Destination)
			require.Equal(t, "VIN1", m.Key)
			if tc.set.TransmitDecodedRecords && tc.rec.WAL.GetTopic() == "V" {
				require.JSONEq(t, tc.wantValue, string(m.Value))
			} else if tc.wantValue != "" {
				require.Equal(t, tc.wantValue, string(m.Value))
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	rec := datastore.Record{Partition: 2, Index: 7, WAL: &walpb.Record{
		Vin: "VIN1", Topic: "alerts", Txid: []byte("tx"), ReceivedAtMs: 1700000000123, DeviceClientVersion: "1.2.0",
	}}
	require.Equal(t, []Header{
		{"device_client_version", "1.2.0"}, {"receivedat", "1700000000123"}, {"timestamp", "0"},
		{"txid", "tx"}, {"txtype", "alerts"}, {"version", "0"}, {"vin", "VIN1"}, {"record_id", "2-7"},
	}, Headers(rec))
	require.Equal(t, "2-7", Attributes(rec)[KeyRecordID])
	require.Len(t, Attributes(rec), 8)
}
