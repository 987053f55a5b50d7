package message

import (
	"github.com/fleetrelay/fleetrelay/shared/record"
)

// DecodedJSON returns the protojson the reference dispatches when
// transmit_decoded_records is on (record.DecodedJSON). Payloads of opaque
// topics (no protobuf schema) are passed through unchanged rather than
// failed: the gateway stored them deliberately, and a datastore is the
// place they are configured to reach.
func DecodedJSON(topic string, payload []byte) ([]byte, error) {
	if !record.Known(topic) {
		return payload, nil
	}
	return record.DecodedJSON(topic, payload)
}
