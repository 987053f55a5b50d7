package ingest_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// benchVFrame builds a typical V frame of about 300 bytes: six datums of
// mixed types, among them a string Location, as vehicles send them.
func benchVFrame(tb testing.TB) []byte {
	tb.Helper()
	str := func(k vehiclepb.Field, s string) *vehiclepb.Datum {
		return &vehiclepb.Datum{Key: k, Value: &vehiclepb.Value{Value: &vehiclepb.Value_StringValue{StringValue: s}}}
	}
	dbl := func(k vehiclepb.Field, d float64) *vehiclepb.Datum {
		return &vehiclepb.Datum{Key: k, Value: &vehiclepb.Value{Value: &vehiclepb.Value_DoubleValue{DoubleValue: d}}}
	}
	payload := marshal(tb, &vehiclepb.Payload{
		Data: []*vehiclepb.Datum{
			str(vehiclepb.Field_VehicleName, "Model 3"),
			str(vehiclepb.Field_Location, "(37.412374 N, 122.145867 W)"),
			dbl(vehiclepb.Field_Odometer, 12345.678),
			str(vehiclepb.Field_BrakePedalPos, "1.25e-05"),
			{Key: vehiclepb.Field_Gear, Value: &vehiclepb.Value{Value: &vehiclepb.Value_ShiftStateValue{ShiftStateValue: vehiclepb.ShiftState_ShiftStateD}}},
			{Key: vehiclepb.Field_Locked, Value: &vehiclepb.Value{Value: &vehiclepb.Value_BooleanValue{BooleanValue: true}}},
		},
		CreatedAt: timestamppb.New(testNow),
	})
	return frameSpec{txid: "txid-0123456789", topic: "V", sender: "vehicle_device." + testVIN, deviceID: testVIN, payload: payload}.build()
}

// BenchmarkProcess measures one V frame from bytes to a WAL record:
// envelope decode, rate limit, protobuf decode, transforms, re-encode.
func BenchmarkProcess(b *testing.B) {
	frame := benchVFrame(b)
	tests := []struct {
		name string
		cfg  ingest.Config
	}{
		{name: "ratelimit=off", cfg: ingest.Config{Topics: []string{"V"}}},
		{name: "ratelimit=on", cfg: ingest.Config{Topics: []string{"V"},
			RateLimit: ratelimit.Config{Enabled: true, MessageLimit: 1 << 30, MessageIntervalTime: 1}}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			p := newProcessor(b, tt.cfg)
			c := testConn()
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				if res := p.Process(frame, c, testNow); res.Action != ingest.ActionStore {
					b.Fatalf("not stored: %v", res.Err)
				}
			}
		})
	}
}

func TestBenchFrameIsTypical(t *testing.T) {
	n := len(benchVFrame(t))
	require.True(t, n >= 280 && n <= 340, "frame is %d bytes", n)
	t.Logf("benchmark frame: %d bytes", n)
}
