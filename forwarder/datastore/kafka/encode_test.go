package kafka

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/message"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
)

// TestEncoderMatchesBuilder checks that the reused, non-allocating encoder
// produces exactly the topic, key, value and headers that message.Builder
// defines (the reference's format), including empty and nil fields, which
// must stay empty rather than become null.
func TestEncoderMatchesBuilder(t *testing.T) {
	recs := []datastore.Record{
		{Partition: 2, Index: 7, WAL: &walpb.Record{Vin: "5YJ3E1EA000000001", Topic: "V", Txid: []byte("tx-1"),
			ReceivedAtMs: 1700000000123, DeviceClientVersion: "1.2.0", Payload: []byte{1, 2, 3}}},
		{Partition: 0, Index: 18446744073709551615, WAL: &walpb.Record{Vin: "VIN2", Topic: "alerts",
			ReceivedAtMs: -5, Payload: []byte{}}},
		{Partition: 31, Index: 1, WAL: &walpb.Record{Topic: "errors", Txid: []byte{}}},
		{Partition: 1, Index: 123456789, WAL: &walpb.Record{Vin: "VIN3", Topic: "V", Txid: []byte("a longer transaction id"),
			ReceivedAtMs: 1, DeviceClientVersion: "2026.44.1", Payload: []byte("payload")}},
	}
	for _, set := range []datastore.Settings{{Namespace: "tesla"}, {}} {
		b := message.NewBuilder(set)
		e := newEncoder(b)
		for i, rec := range recs {
			want, err := b.Build(rec)
			require.NoError(t, err)
			got, err := e.encode(rec, i)
			require.NoError(t, err)
			require.Equal(t, want.Destination, *got.TopicPartition.Topic)
			require.Equal(t, int32(-1), got.TopicPartition.Partition)
			require.NotNil(t, got.Key, "key must be empty, not null")
			require.Equal(t, want.Key, string(got.Key))
			require.Equal(t, want.Value, got.Value)
			require.Equal(t, i, got.Opaque)
			require.Len(t, got.Headers, len(want.Headers))
			for j, h := range want.Headers {
				require.Equal(t, h.Key, got.Headers[j].Key)
				require.NotNil(t, got.Headers[j].Value, "header %s must be empty, not null", h.Key)
				require.Equal(t, h.Value, string(got.Headers[j].Value), "header %s", h.Key)
			}
		}
	}
}

// TestEncoderDoesNotAllocate pins the point of the encoder: building a
// message costs no allocation once the topic and positions are known.
func TestEncoderDoesNotAllocate(t *testing.T) {
	e := newEncoder(message.NewBuilder(datastore.Settings{Namespace: "bench"}))
	rec := datastore.Record{Partition: 3, Index: 99999, WAL: &walpb.Record{Vin: "5YJ3E1EA000000001", Topic: "V",
		Txid: []byte("tx"), ReceivedAtMs: 1700000000123, DeviceClientVersion: "1.2.0", Payload: []byte("p")}}
	_, err := e.encode(rec, 499)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = e.encode(rec, 499)
	})
	require.Zero(t, allocs)
}

// TestEncoderDecodedValue checks that transmit_decoded_records still turns
// the value into protojson, and that an undecodable payload is permanent.
func TestEncoderDecodedValue(t *testing.T) {
	set := datastore.Settings{TransmitDecodedRecords: true}
	b := message.NewBuilder(set)
	e := newEncoder(b)
	rec := datastore.Record{Index: 1, WAL: &walpb.Record{Vin: "VIN1", Topic: "V", Payload: []byte{}}}
	want, err := b.Build(rec)
	require.NoError(t, err)
	got, err := e.encode(rec, 0)
	require.NoError(t, err)
	require.Equal(t, want.Value, got.Value)
	_, err = e.encode(datastore.Record{Index: 2, WAL: &walpb.Record{Vin: "VIN1", Topic: "V", Payload: []byte{0xff, 0xff}}}, 1)
	require.True(t, datastore.IsPermanent(err), "%v", err)
}
