package record_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/shared/record"
)

func stringDatum(key vehiclepb.Field, s string) *vehiclepb.Datum {
	return &vehiclepb.Datum{Key: key, Value: &vehiclepb.Value{Value: &vehiclepb.Value_StringValue{StringValue: s}}}
}

func locationDatum(key vehiclepb.Field, lat, lon float64) *vehiclepb.Datum {
	loc := &vehiclepb.LocationValue{Latitude: lat, Longitude: lon}
	return &vehiclepb.Datum{Key: key, Value: &vehiclepb.Value{Value: &vehiclepb.Value_LocationValue{LocationValue: loc}}}
}

func TestParseLocation(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *vehiclepb.LocationValue
		wantErr bool
	}{
		{name: "north_west", in: "(37.412374 N, 122.145867 W)", want: &vehiclepb.LocationValue{Latitude: 37.412374, Longitude: -122.145867}},
		{name: "north_east", in: "(37.412374 N, 122.145867 E)", want: &vehiclepb.LocationValue{Latitude: 37.412374, Longitude: 122.145867}},
		{name: "south_west", in: "(37.412374 S, 122.145867 W)", want: &vehiclepb.LocationValue{Latitude: -37.412374, Longitude: -122.145867}},
		{name: "south_east", in: "(37.412374 S, 122.145867 E)", want: &vehiclepb.LocationValue{Latitude: -37.412374, Longitude: 122.145867}},
		{name: "integers", in: "(0 N, 0 E)", want: &vehiclepb.LocationValue{}},
		{name: "trailing_text_ignored", in: "(1.5 N, 2.5 E) extra", want: &vehiclepb.LocationValue{Latitude: 1.5, Longitude: 2.5}},
		{name: "bad_hemisphere", in: "(37.412374 Q, 122.145867 W)", wantErr: true},
		{name: "lowercase_hemisphere", in: "(37.412374 n, 122.145867 w)", wantErr: true},
		{name: "longitude_hemisphere_swapped", in: "(37.412374 N, 122.145867 S)", wantErr: true},
		{name: "not_a_location", in: "Abhishek is NOT a location", wantErr: true},
		{name: "missing_parenthesis", in: "37.412374 N, 122.145867 W", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := record.ParseLocation(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.True(t, proto.Equal(tt.want, got), "got %v", got)
		})
	}
}

func TestTransformLocation(t *testing.T) {
	tests := []struct {
		name string
		in   []*vehiclepb.Datum
		want []*vehiclepb.Datum
	}{
		{
			name: "string_converted",
			in:   []*vehiclepb.Datum{stringDatum(vehiclepb.Field_VehicleName, "car"), stringDatum(vehiclepb.Field_Location, "(1.5 S, 2.5 W)")},
			want: []*vehiclepb.Datum{stringDatum(vehiclepb.Field_VehicleName, "car"), locationDatum(vehiclepb.Field_Location, -1.5, -2.5)},
		},
		{
			name: "only_first_location",
			in:   []*vehiclepb.Datum{stringDatum(vehiclepb.Field_Location, "(1 N, 2 E)"), stringDatum(vehiclepb.Field_Location, "(3 N, 4 E)")},
			want: []*vehiclepb.Datum{locationDatum(vehiclepb.Field_Location, 1, 2), stringDatum(vehiclepb.Field_Location, "(3 N, 4 E)")},
		},
		{
			name: "unparsable_first_stops_the_search",
			in:   []*vehiclepb.Datum{stringDatum(vehiclepb.Field_Location, "nowhere"), stringDatum(vehiclepb.Field_Location, "(3 N, 4 E)")},
			want: []*vehiclepb.Datum{stringDatum(vehiclepb.Field_Location, "nowhere"), stringDatum(vehiclepb.Field_Location, "(3 N, 4 E)")},
		},
		{
			name: "location_value_kept",
			in:   []*vehiclepb.Datum{locationDatum(vehiclepb.Field_Location, 1, 2)},
			want: []*vehiclepb.Datum{locationDatum(vehiclepb.Field_Location, 1, 2)},
		},
		{
			name: "other_fields_untouched",
			in:   []*vehiclepb.Datum{stringDatum(vehiclepb.Field_DestinationName, "(1 N, 2 E)")},
			want: []*vehiclepb.Datum{stringDatum(vehiclepb.Field_DestinationName, "(1 N, 2 E)")},
		},
		{
			name: "datum_without_value",
			in:   []*vehiclepb.Datum{{Key: vehiclepb.Field_Location}},
			want: []*vehiclepb.Datum{{Key: vehiclepb.Field_Location}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &vehiclepb.Payload{Data: tt.in}
			record.TransformLocation(p)
			require.True(t, proto.Equal(&vehiclepb.Payload{Data: tt.want}, p), "got %v", p)
		})
	}
}

func TestTransformScientificNotation(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "small_exponent", in: "1.1920928955078125e-05", want: "0.00001"},
		{name: "rounds_to_zero", in: "1.23e-9", want: "0.00000"},
		{name: "upper_case_positive_exponent", in: "2.5E+2", want: "250.00000"},
		{name: "negative", in: "-1.5e-3", want: "-0.00150"},
		{name: "float32_rounding", in: "0.1e1", want: "1.00000"},
		{name: "trailing_dot_mantissa", in: "3.e2", want: "300.00000"},
		{name: "leading_dot_mantissa", in: ".5e1", want: "5.00000"},
		{name: "float32_precision", in: "1.23456789e3", want: "1234.56787"},
		{name: "no_dot_not_matched", in: "1e5", want: "1e5"},
		{name: "long_float_unchanged", in: "0.00000012", want: "0.00000012"},
		{name: "regular_float_unchanged", in: "0.03", want: "0.03"},
		{name: "integer_unchanged", in: "3", want: "3"},
		{name: "out_of_float32_range_unchanged", in: "1.5e40", want: "1.5e40"},
		{name: "text_with_e_unchanged", in: "engaged", want: "engaged"},
		{name: "surrounding_space_unchanged", in: " 1.5e3", want: " 1.5e3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &vehiclepb.Payload{Data: []*vehiclepb.Datum{stringDatum(vehiclepb.Field_BrakePedalPos, tt.in)}}
			record.TransformScientificNotation(p)
			require.Equal(t, tt.want, p.GetData()[0].GetValue().GetStringValue())
		})
	}
}

func TestTransformAlertTimestamps(t *testing.T) {
	ms := timestamppb.New(time.Unix(1692044886337, 5))
	fixed := timestamppb.New(time.Unix(1692044886, 337000000))
	regular := timestamppb.New(time.Unix(1600000000, 337000000))
	below := &timestamppb.Timestamp{Seconds: record.MillisecondSecondsThreshold - 1}
	at := &timestamppb.Timestamp{Seconds: record.MillisecondSecondsThreshold}
	atFixed := &timestamppb.Timestamp{Seconds: record.MillisecondSecondsThreshold / 1000}
	tests := []struct {
		name                 string
		started, ended       *timestamppb.Timestamp
		wantStart, wantEnded *timestamppb.Timestamp
	}{
		{name: "active_milliseconds", started: ms, wantStart: fixed},
		{name: "ended_milliseconds", started: ms, ended: ms, wantStart: fixed, wantEnded: fixed},
		{name: "regular_seconds", started: regular, ended: regular, wantStart: regular, wantEnded: regular},
		{name: "just_below_threshold", started: below, wantStart: below},
		{name: "at_threshold", started: at, wantStart: atFixed},
		{name: "unset", started: nil, wantStart: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &vehiclepb.VehicleAlerts{Alerts: []*vehiclepb.VehicleAlert{{
				Name: "a", StartedAt: proto.CloneOf(tt.started), EndedAt: proto.CloneOf(tt.ended),
			}}}
			record.TransformAlertTimestamps(a)
			want := &vehiclepb.VehicleAlert{Name: "a", StartedAt: tt.wantStart, EndedAt: tt.wantEnded}
			require.True(t, proto.Equal(want, a.GetAlerts()[0]), "got %v", a.GetAlerts()[0])
		})
	}
}

func TestTransformInjectsVIN(t *testing.T) {
	tests := []struct {
		name string
		msg  proto.Message
		vin  func(proto.Message) string
	}{
		{name: "V", msg: &vehiclepb.Payload{Vin: "SPOOF"}, vin: func(m proto.Message) string { return m.(*vehiclepb.Payload).GetVin() }},
		{name: "alerts", msg: &vehiclepb.VehicleAlerts{Vin: "SPOOF"}, vin: func(m proto.Message) string { return m.(*vehiclepb.VehicleAlerts).GetVin() }},
		{name: "errors", msg: &vehiclepb.VehicleErrors{}, vin: func(m proto.Message) string { return m.(*vehiclepb.VehicleErrors).GetVin() }},
		{name: "connectivity", msg: &vehiclepb.VehicleConnectivity{Vin: "SPOOF"}, vin: func(m proto.Message) string { return m.(*vehiclepb.VehicleConnectivity).GetVin() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			record.Transform(tt.msg, "CERTVIN")
			require.Equal(t, "CERTVIN", tt.vin(tt.msg))
		})
	}
}

func TestTransformLeavesOtherMessagesAlone(t *testing.T) {
	m := &vehiclepb.VehicleMetrics{Vin: "BODY"}
	record.Transform(m, "CERTVIN")
	require.Equal(t, "BODY", m.GetVin())
}
