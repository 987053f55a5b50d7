package record

import (
	"fmt"

	"testing"

	"github.com/stretchr/testify/require"
)

// Every field of the four topics' messages has a kind the fast path reads:
// a field added to the .proto files with an unsupported kind (say uint32 or
// a repeated double) fails here instead of sending every payload that
// carries it through the slow path unnoticed.
func TestFastPathSchemaIsComplete(t *testing.T) {
	seen := map[*message]bool{}
	var walk func(name string, m *message)
	walk = func(name string, m *message) {
		if seen[m] {
			return
		}
		seen[m] = true
		for num, f := range m.fields {
			require.NotEqual(t, kindUnsupported, f.kind, "%s field %d", name, num)
			if f.msg != nil {
				walk(fmt.Sprintf("%s.%d", name, num), f.msg)
			}
		}
	}
	for _, topic := range []string{TopicV, TopicAlerts, TopicErrors, TopicConnectivity} {
		c, ok := codecFor(topic)
		require.True(t, ok)
		require.NotZero(t, c.vinNum)
		walk(topic, c.msg)
	}
	require.Len(t, seen, 13) // Payload, Datum, Value, LocationValue, Doors, Time, TireLocation, Timestamp, VehicleAlerts, VehicleAlert, VehicleErrors, VehicleError, VehicleConnectivity
}
