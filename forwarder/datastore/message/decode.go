package message

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// Record types (topics) whose payload has a known protobuf schema.
const (
	TopicV            = "V"
	TopicAlerts       = "alerts"
	TopicErrors       = "errors"
	TopicConnectivity = "connectivity"
)

// ErrUnknownTopic is returned by Unmarshal for a topic without a schema.
var ErrUnknownTopic = errors.New("no protobuf schema for topic")

// Unmarshal decodes a WAL payload into the message type of its topic:
// Payload (V), VehicleAlerts, VehicleErrors or VehicleConnectivity.
func Unmarshal(topic string, payload []byte) (proto.Message, error) {
	var m proto.Message
	switch topic {
	case TopicV:
		m = &vehiclepb.Payload{}
	case TopicAlerts:
		m = &vehiclepb.VehicleAlerts{}
	case TopicErrors:
		m = &vehiclepb.VehicleErrors{}
	case TopicConnectivity:
		m = &vehiclepb.VehicleConnectivity{}
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownTopic, topic)
	}
	if err := proto.Unmarshal(payload, m); err != nil {
		return nil, fmt.Errorf("decode %s payload: %w", topic, err)
	}
	return m, nil
}

// decodedOptions are the reference's protojson options for
// transmit_decoded_records: enum names, unpopulated fields included.
var decodedOptions = protojson.MarshalOptions{EmitUnpopulated: true}

// DecodedJSON returns the protojson the reference dispatches when
// transmit_decoded_records is on. Payloads of topics without a schema are
// returned unchanged, as the reference passes them through.
func DecodedJSON(topic string, payload []byte) ([]byte, error) {
	m, err := Unmarshal(topic, payload)
	if err != nil {
		if _, known := knownTopics[topic]; !known {
			return payload, nil
		}
		return nil, err
	}
	js, err := decodedOptions.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload as JSON: %w", topic, err)
	}
	return js, nil
}

var knownTopics = map[string]struct{}{TopicV: {}, TopicAlerts: {}, TopicErrors: {}, TopicConnectivity: {}}
