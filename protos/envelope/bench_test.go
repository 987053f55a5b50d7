package envelope

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// benchFrame is a typical V record frame of about 300 bytes: a Payload with
// a handful of signals, wrapped as a vehicle wraps it.
func benchFrame(b *testing.B) []byte {
	b.Helper()
	payload, err := proto.Marshal(&vehiclepb.Payload{
		Data: []*vehiclepb.Datum{
			{Key: vehiclepb.Field_VehicleName, Value: &vehiclepb.Value{Value: &vehiclepb.Value_StringValue{StringValue: "My Test Vehicle"}}},
			{Key: vehiclepb.Field_VehicleSpeed, Value: &vehiclepb.Value{Value: &vehiclepb.Value_FloatValue{FloatValue: 65.5}}},
			{Key: vehiclepb.Field_PackVoltage, Value: &vehiclepb.Value{Value: &vehiclepb.Value_DoubleValue{DoubleValue: 401.25}}},
			{Key: vehiclepb.Field_Odometer, Value: &vehiclepb.Value{Value: &vehiclepb.Value_IntValue{IntValue: 12345}}},
			{Key: vehiclepb.Field_Gear, Value: &vehiclepb.Value{Value: &vehiclepb.Value_ShiftStateValue{ShiftStateValue: vehiclepb.ShiftState_ShiftStateD}}},
		},
		CreatedAt: &timestamppb.Timestamp{Seconds: 1700000000},
	})
	if err != nil {
		b.Fatal(err)
	}
	return bytes.Clone(NewEncoder().Stream([]byte("txid-0123456789abcdef"), []byte("V"), []byte("msgid-txid-0123456789abcdef"), Stream{
		CreatedAt:  1700000000,
		SenderID:   []byte("vehicle_device." + vin),
		Payload:    payload,
		DeviceType: []byte("vehicle_device"),
		DeviceID:   []byte(vin),
	}))
}

func BenchmarkDecode(b *testing.B) {
	frame := benchFrame(b)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	var e Envelope
	for b.Loop() {
		if err := Decode(frame, &e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(frame)), "frame_bytes")
}

func BenchmarkEncoderAck(b *testing.B) {
	enc := NewEncoder()
	txid, topic := []byte("txid-0123456789abcdef"), []byte("V")
	b.ReportAllocs()
	for b.Loop() {
		enc.Ack(txid, topic)
	}
}

func BenchmarkEncoderError(b *testing.B) {
	enc := NewEncoder()
	txid := []byte("txid-0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		enc.Error(txid, ErrorText)
	}
}
