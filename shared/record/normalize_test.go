package record_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/shared/record"
)

// requireSameAsReflect checks that Normalize gives the reflective path's
// bytes and outcome.
func requireSameAsReflect(t *testing.T, topic string, payload []byte, vin string) {
	t.Helper()
	want, wantErr := record.NormalizeReflect(topic, payload, vin)
	got, err := record.Normalize(topic, payload, vin)
	require.Equal(t, wantErr == nil, err == nil, "outcome: reflect %v, Normalize %v", wantErr, err)
	require.True(t, bytes.Equal(want, got), "bytes differ:\nreflect   %x\nNormalize %x", want, got)
	prefix := []byte("prefix")
	appended, err := record.AppendNormalize(prefix[:len(prefix):len(prefix)], topic, payload, vin)
	require.Equal(t, wantErr == nil, err == nil, "outcome: reflect %v, AppendNormalize %v", wantErr, err)
	if err != nil {
		require.Equal(t, prefix, appended)
		return
	}
	require.Equal(t, append(prefix, want...), appended)
}

// FuzzNormalizeMatchesReflect is the differential check of the fast path:
// for arbitrary payloads of every known topic and arbitrary VINs, Normalize
// returns exactly the bytes and the error/no-error outcome of the
// reflective decode, transform and encode. Seeds (testdata/fuzz): the
// conformance frames' payloads.
func FuzzNormalizeMatchesReflect(f *testing.F) {
	f.Add(uint8(0), []byte{}, certVIN)
	f.Add(uint8(0), benchPayloads(f)[record.TopicV], "")
	f.Add(uint8(1), benchPayloads(f)[record.TopicAlerts], "\xff")
	topics := fuzzTopics[:4]
	f.Fuzz(func(t *testing.T, topicIndex uint8, payload []byte, vin string) {
		requireSameAsReflect(t, topics[int(topicIndex)%len(topics)], payload, vin)
	})
}

// The common payloads take the fast path: the conformance cases and the
// benchmark payloads.
func TestFastPathTakesCommonPayloads(t *testing.T) {
	for _, c := range loadDispatchCases(t) {
		t.Run(c.name, func(t *testing.T) {
			_, ok := record.FastNormalize(c.topic, c.dispatch, "OTHERVIN")
			require.True(t, ok)
			requireSameAsReflect(t, c.topic, c.dispatch, "OTHERVIN")
		})
	}
	for topic, payload := range benchPayloads(t) {
		t.Run("bench_"+topic, func(t *testing.T) {
			_, ok := record.FastNormalize(topic, payload, certVIN)
			require.True(t, ok)
			requireSameAsReflect(t, topic, payload, certVIN)
		})
	}
}

// Payloads the fast path must hand over (or get right): each is compared
// with the reflective result.
func TestNormalizeMatchesReflectEdgeCases(t *testing.T) {
	tag := func(b []byte, num protowire.Number, typ protowire.Type) []byte {
		return protowire.AppendTag(b, num, typ)
	}
	msg := func(num protowire.Number, body []byte) []byte {
		return protowire.AppendBytes(tag(nil, num, protowire.BytesType), body)
	}
	str := func(num protowire.Number, s string) []byte { return msg(num, []byte(s)) }
	varint := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(tag(nil, num, protowire.VarintType), v)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	datum := func(key uint64, value []byte) []byte { return msg(1, cat(varint(1, key), msg(2, value))) }
	location := uint64(vehiclepb.Field_Location)
	entry := func(k, v string) []byte { return msg(3, cat(str(1, k), str(2, v))) }
	ts := func(num protowire.Number, sec uint64, nanos uint64) []byte {
		return msg(num, cat(varint(1, sec), varint(2, nanos)))
	}
	tests := []struct {
		name, topic string
		payload     []byte
	}{
		{"v_empty", "V", nil},
		{"v_vin_first", "V", cat(str(3, "X"), datum(4, varint(2, 5)))},
		{"v_two_vins", "V", cat(str(3, "X"), datum(4, varint(2, 5)), str(3, "Y"))},
		{"v_vin_bad_utf8", "V", str(3, "\xff")},
		{"v_vin_varint", "V", varint(3, 1)},
		{"v_location", "V", datum(location, str(1, "(37.412374 N, 122.145867 W)"))},
		{"v_location_zero", "V", datum(location, str(1, "(0 N, 0 W)"))},
		{"v_location_second", "V", cat(datum(location, str(1, "x")), datum(location, str(1, "(1 N, 2 E)")))},
		{"v_location_scientific", "V", datum(location, str(1, "1.5e3"))},
		{"v_scientific", "V", datum(4, str(1, "-1.5E+30"))},
		{"v_scientific_out_of_range", "V", datum(4, str(1, "1.5e300"))},
		{"v_scientific_value_unknown_field", "V", datum(4, cat(str(1, "1.5e3"), varint(99, 1)))},
		{"v_empty_string_value", "V", datum(4, str(1, ""))},
		{"v_oneof_zero_int", "V", datum(4, varint(2, 0))},
		{"v_two_oneof_members", "V", datum(4, cat(varint(2, 1), varint(3, 1)))},
		{"v_int32_negative", "V", datum(4, varint(2, uint64(1<<64-1)))},
		{"v_int32_truncated", "V", datum(4, varint(2, 1<<40))},
		{"v_bool_two", "V", datum(4, varint(6, 2))},
		{"v_key_zero", "V", datum(0, varint(2, 1))},
		{"v_datum_no_value", "V", msg(1, varint(1, 4))},
		{"v_value_before_key", "V", msg(1, cat(msg(2, varint(2, 1)), varint(1, 4)))},
		{"v_unknown_then_known", "V", cat(varint(99, 1), datum(4, varint(2, 5)))},
		{"v_unknown_group", "V", cat(datum(4, varint(2, 5)), tag(nil, 99, protowire.StartGroupType), tag(nil, 99, protowire.EndGroupType))},
		{"v_resend_false", "V", varint(4, 0)},
		{"v_nonminimal_tag", "V", []byte{0xa0, 0x00, 0x01}},
		{"v_created_at", "V", cat(datum(4, varint(2, 5)), ts(2, 1700000000, 5), varint(4, 1))},
		{"v_created_at_zero_nanos", "V", ts(2, 1700000000, 0)},
		{"errors_tags_sorted", "errors", msg(1, cat(str(2, "e"), entry("a", "1"), entry("b", ""), entry("c", "3")))},
		{"errors_tags_unsorted", "errors", msg(1, cat(str(2, "e"), entry("b", "1"), entry("a", "2")))},
		{"errors_tags_duplicate", "errors", msg(1, cat(entry("a", "1"), entry("a", "2")))},
		{"errors_tags_empty_entry", "errors", msg(1, cat(entry("", "")))},
		{"errors_tags_entry_missing_value", "errors", msg(1, msg(3, str(1, "k")))},
		{"alerts_ms", "alerts", msg(1, cat(str(1, "a"), msg(2, []byte{1, 2}), ts(3, 1700000000123, 5), ts(4, 1, 0)))},
		{"alerts_ms_ended", "alerts", msg(1, cat(str(1, "a"), ts(4, 1700000000999, 0), varint(77, 1)))},
		{"alerts_audiences_empty_run", "alerts", msg(1, msg(2, nil))},
		{"alerts_audiences_unpacked", "alerts", msg(1, varint(2, 1))},
		{"connectivity", "connectivity", cat(str(1, "X"), str(2, "c"), varint(3, 1), ts(4, 5, 0), str(5, "wifi"))},
		{"connectivity_no_vin", "connectivity", cat(str(2, "c"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, vin := range []string{certVIN, "", "\xff"} {
				requireSameAsReflect(t, tt.topic, tt.payload, vin)
			}
		})
	}
}

// benchPayloads returns a typical payload per topic, as vehicles send them.
func benchPayloads(tb testing.TB) map[string][]byte {
	tb.Helper()
	created := &timestamppb.Timestamp{Seconds: 1700000000, Nanos: 123000000}
	str := func(k vehiclepb.Field, s string) *vehiclepb.Datum {
		return &vehiclepb.Datum{Key: k, Value: &vehiclepb.Value{Value: &vehiclepb.Value_StringValue{StringValue: s}}}
	}
	dbl := func(k vehiclepb.Field, d float64) *vehiclepb.Datum {
		return &vehiclepb.Datum{Key: k, Value: &vehiclepb.Value{Value: &vehiclepb.Value_DoubleValue{DoubleValue: d}}}
	}
	out := map[string][]byte{}
	add := func(topic string, m proto.Message) {
		b, err := record.Marshal(m)
		require.NoError(tb, err)
		out[topic] = b
	}
	add(record.TopicV, &vehiclepb.Payload{
		Data: []*vehiclepb.Datum{
			str(vehiclepb.Field_VehicleName, "Model 3"),
			str(vehiclepb.Field_Location, "(37.412374 N, 122.145867 W)"),
			dbl(vehiclepb.Field_Odometer, 12345.678),
			str(vehiclepb.Field_BrakePedalPos, "1.25e-05"),
			{Key: vehiclepb.Field_Gear, Value: &vehiclepb.Value{Value: &vehiclepb.Value_ShiftStateValue{ShiftStateValue: vehiclepb.ShiftState_ShiftStateD}}},
			{Key: vehiclepb.Field_Locked, Value: &vehiclepb.Value{Value: &vehiclepb.Value_BooleanValue{BooleanValue: true}}},
		},
		CreatedAt: created,
		Vin:       certVIN,
	})
	add(record.TopicAlerts, &vehiclepb.VehicleAlerts{
		Alerts: []*vehiclepb.VehicleAlert{
			{Name: "Name_Of_The_Alert", Audiences: []vehiclepb.Audience{vehiclepb.Audience_Customer, vehiclepb.Audience_Service}, StartedAt: created},
			{Name: "Other_Alert", Audiences: []vehiclepb.Audience{vehiclepb.Audience_Service}, StartedAt: created, EndedAt: created},
		},
		CreatedAt: created,
		Vin:       certVIN,
	})
	add(record.TopicErrors, &vehiclepb.VehicleErrors{
		Errors: []*vehiclepb.VehicleError{
			{CreatedAt: created, Name: "name_of_error", Tags: map[string]string{"tag": "value"}, Body: "body of error"},
		},
		CreatedAt: created,
		Vin:       certVIN,
	})
	add(record.TopicConnectivity, &vehiclepb.VehicleConnectivity{
		Vin: certVIN, ConnectionId: "8f0d6ee6-3c47-4d5f-a8b6-3b1f0c2a4e21",
		Status: vehiclepb.ConnectivityEvent_CONNECTED, CreatedAt: created, NetworkInterface: "wifi",
	})
	return out
}

// BenchmarkNormalize compares Normalize with the reflective path per topic.
func BenchmarkNormalize(b *testing.B) {
	for _, topic := range fuzzTopics[:4] {
		payload := benchPayloads(b)[topic]
		for _, impl := range []struct {
			name string
			fn   func(string, []byte, string) ([]byte, error)
		}{{"impl=fast", record.Normalize}, {"impl=reflect", record.NormalizeReflect}} {
			b.Run("topic="+topic+"/"+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(payload)))
				for b.Loop() {
					if _, err := impl.fn(topic, payload, certVIN); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
