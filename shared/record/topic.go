package record

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// The topics whose payload has a known protobuf type.
const (
	// TopicV carries vehicle data (vehiclepb.Payload).
	TopicV = "V"
	// TopicAlerts carries alerts (vehiclepb.VehicleAlerts).
	TopicAlerts = "alerts"
	// TopicErrors carries errors (vehiclepb.VehicleErrors).
	TopicErrors = "errors"
	// TopicConnectivity carries connection events (vehiclepb.VehicleConnectivity).
	TopicConnectivity = "connectivity"
)

// ErrUnknownTopic reports a topic without a known protobuf type.
var ErrUnknownTopic = errors.New("record: no protobuf type for topic")

// New returns an empty message of the topic's type, or nil and false when
// the topic is opaque.
func New(topic string) (proto.Message, bool) {
	switch topic {
	case TopicV:
		return &vehiclepb.Payload{}, true
	case TopicAlerts:
		return &vehiclepb.VehicleAlerts{}, true
	case TopicErrors:
		return &vehiclepb.VehicleErrors{}, true
	case TopicConnectivity:
		return &vehiclepb.VehicleConnectivity{}, true
	default:
		return nil, false
	}
}

// Known reports whether the topic has a known protobuf type.
func Known(topic string) bool {
	switch topic {
	case TopicV, TopicAlerts, TopicErrors, TopicConnectivity:
		return true
	default:
		return false
	}
}

// Unmarshal decodes payload as the topic's message. It fails with
// ErrUnknownTopic for opaque topics and with a wrapped protobuf error when
// payload is not a valid message of that type (including invalid UTF-8 in a
// string field, which the reference rejects too).
func Unmarshal(topic string, payload []byte) (proto.Message, error) {
	msg, ok := New(topic)
	if !ok {
		return nil, fmt.Errorf("unmarshal %q: %w", topic, ErrUnknownTopic)
	}
	if err := proto.Unmarshal(payload, msg); err != nil {
		return nil, fmt.Errorf("unmarshal %q payload: %w", topic, err)
	}
	return msg, nil
}
