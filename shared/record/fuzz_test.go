package record_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/record"
)

var fuzzTopics = []string{record.TopicV, record.TopicAlerts, record.TopicErrors, record.TopicConnectivity, "canlogs"}

// FuzzNormalize feeds arbitrary payloads to every topic: Normalize never
// panics, and what it accepts decodes again with the certificate VIN.
func FuzzNormalize(f *testing.F) {
	f.Add(uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, topicIndex uint8, payload []byte) {
		topic := fuzzTopics[int(topicIndex)%len(fuzzTopics)]
		out, err := record.Normalize(topic, payload, certVIN)
		if err != nil {
			require.True(t, record.Known(topic))
			return
		}
		if !record.Known(topic) {
			require.Equal(t, payload, out)
			return
		}
		msg, err := record.Unmarshal(topic, out)
		require.NoError(t, err)
		again, err := record.Marshal(msg)
		require.NoError(t, err)
		require.Equal(t, out, again)
		_, _ = record.DecodedJSON(topic, out) // may fail (out-of-range timestamps) but must not panic
	})
}
