package record_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/shared/record"
)

func TestNewAndKnown(t *testing.T) {
	tests := []struct {
		topic string
		want  proto.Message
	}{
		{topic: "V", want: &vehiclepb.Payload{}},
		{topic: "alerts", want: &vehiclepb.VehicleAlerts{}},
		{topic: "errors", want: &vehiclepb.VehicleErrors{}},
		{topic: "connectivity", want: &vehiclepb.VehicleConnectivity{}},
		{topic: "canlogs"},
		{topic: "v"},
		{topic: ""},
	}
	for _, tt := range tests {
		t.Run("topic_"+tt.topic, func(t *testing.T) {
			got, ok := record.New(tt.topic)
			require.Equal(t, tt.want != nil, ok)
			require.Equal(t, ok, record.Known(tt.topic))
			if tt.want != nil {
				require.IsType(t, tt.want, got)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	badUTF8 := protowire.AppendTag(nil, 3, protowire.BytesType)
	badUTF8 = protowire.AppendBytes(badUTF8, []byte{0xff, 0xfe})
	tests := []struct {
		name, topic string
		payload     []byte
		unknown     bool
	}{
		{name: "opaque_topic", topic: "canlogs", payload: nil, unknown: true},
		{name: "truncated", topic: "V", payload: []byte{0xff, 0xff, 0xff, 0xff}},
		{name: "invalid_utf8_vin", topic: "V", payload: badUTF8},
		{name: "wrong_wire_type", topic: "alerts", payload: []byte{0x0b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := record.Unmarshal(tt.topic, tt.payload)
			require.Error(t, err)
			require.Nil(t, msg)
			require.Equal(t, tt.unknown, errors.Is(err, record.ErrUnknownTopic))
			_, err = record.Normalize(tt.topic, tt.payload, "VIN")
			require.Equal(t, !tt.unknown, err != nil)
		})
	}
}

func TestNormalizeOpaqueTopicKeepsBytes(t *testing.T) {
	payload := []byte("any bytes, not protobuf")
	got, err := record.Normalize("canlogs", payload, "VIN")
	require.NoError(t, err)
	require.Equal(t, payload, got)
}

// Fields a newer vehicle sends but this schema does not know reach the
// datastores unchanged, at every nesting level.
func TestNormalizeKeepsUnknownFields(t *testing.T) {
	value := protowire.AppendTag(nil, 200, protowire.VarintType)
	value = protowire.AppendVarint(value, 7)
	datum := protowire.AppendTag(nil, 2, protowire.BytesType)
	datum = protowire.AppendBytes(datum, value)
	payload := protowire.AppendTag(nil, 1, protowire.BytesType)
	payload = protowire.AppendBytes(payload, datum)
	payload = protowire.AppendTag(payload, 99, protowire.BytesType)
	payload = protowire.AppendString(payload, "future")

	out, err := record.Normalize("V", payload, "VIN1")
	require.NoError(t, err)
	msg, err := record.Unmarshal("V", out)
	require.NoError(t, err)
	p := msg.(*vehiclepb.Payload)
	require.Equal(t, "VIN1", p.GetVin())
	require.NotEmpty(t, p.ProtoReflect().GetUnknown())
	require.NotEmpty(t, p.GetData()[0].GetValue().ProtoReflect().GetUnknown())
}

func TestDecodedJSONErrors(t *testing.T) {
	_, err := record.DecodedJSON("canlogs", nil)
	require.ErrorIs(t, err, record.ErrUnknownTopic)
	_, err = record.DecodedJSON("V", []byte{0xff})
	require.Error(t, err)
}

func TestDecodedJSONEmitsUnpopulated(t *testing.T) {
	got, err := record.DecodedJSON("errors", nil)
	require.NoError(t, err)
	require.JSONEq(t, `{"errors":[],"createdAt":null,"vin":""}`, string(got))
	var m map[string]any
	require.NoError(t, json.Unmarshal(got, &m))
}

func TestAppendMarshal(t *testing.T) {
	msg := &vehiclepb.VehicleErrors{Vin: "VIN", Errors: []*vehiclepb.VehicleError{{Name: "e", Tags: map[string]string{"b": "2", "a": "1", "c": "3"}}}}
	want, err := record.Marshal(msg)
	require.NoError(t, err)
	for range 5 {
		got, err := record.AppendMarshal([]byte("prefix"), msg)
		require.NoError(t, err)
		require.Equal(t, append([]byte("prefix"), want...), got)
	}
}
