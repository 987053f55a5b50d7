package reliability

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// TestMQTTTopics checks the topics expected per record against the mqtt
// sink's documented layout.
func TestMQTTTopics(t *testing.T) {
	marshal := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		require.NoError(t, err)
		return b
	}
	speed := func(v float64) *vehiclepb.Datum {
		return &vehiclepb.Datum{Key: vehiclepb.Field_VehicleSpeed, Value: &vehiclepb.Value{Value: &vehiclepb.Value_DoubleValue{DoubleValue: v}}}
	}
	v := &vehiclepb.Payload{Data: []*vehiclepb.Datum{
		speed(1), {Key: vehiclepb.Field_Odometer, Value: &vehiclepb.Value{}}, speed(2),
	}}
	topics, err := mqttTopics("VIN1", "V", marshal(v))
	require.NoError(t, err)
	require.Equal(t, []string{"reliability/VIN1/v/VehicleSpeed"}, topics, "one per field with a value")

	alerts := &vehiclepb.VehicleAlerts{Alerts: []*vehiclepb.VehicleAlert{
		{Name: "a", StartedAt: timestamppb.Now()}, {Name: "b"}, {Name: "a"},
	}}
	topics, err = mqttTopics("VIN1", "alerts", marshal(alerts))
	require.NoError(t, err)
	require.Equal(t, []string{
		"reliability/VIN1/alerts/a/current", "reliability/VIN1/alerts/a/history", "reliability/VIN1/alerts/b/history",
	}, topics)

	errs := &vehiclepb.VehicleErrors{Errors: []*vehiclepb.VehicleError{{Name: "e"}, {Name: "e"}}}
	topics, err = mqttTopics("VIN1", "errors", marshal(errs))
	require.NoError(t, err)
	require.Equal(t, []string{"reliability/VIN1/errors/e", "reliability/VIN1/errors/e"}, topics)

	_, err = mqttTopics("VIN1", "V", []byte{0xff})
	require.Error(t, err)
	_, err = mqttTopics("VIN1", "other", nil)
	require.Error(t, err)
}
