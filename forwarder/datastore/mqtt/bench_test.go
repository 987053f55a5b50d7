package mqtt

import (
	"fmt"
	"testing"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// BenchmarkMQTTWrite measures Write at QoS 1 (every message acknowledged by
// mosquitto); each synthetic record is one message.
//
//	go test -run '^$' -bench BenchmarkMQTTWrite -benchtime 10x ./datastore/mqtt/
func BenchmarkMQTTWrite(b *testing.B) {
	br := startBroker(b)
	for _, size := range []int{500, 5000} {
		b.Run(fmt.Sprintf("batch=%d/qos=1", size), func(b *testing.B) {
			s := newSink(b, config.MQTTConfig{Broker: br.plainURL(), TopicBase: "bench", QoS: 1, ClientID: fmt.Sprintf("bench-%d", size)})
			batch := datastoretest.Synthetic(b, 1, size, 100)
			if err := s.Write(b.Context(), batch); err != nil { // warm-up: connect, metadata
				b.Fatal(err)
			}
			meter := datastoretest.StartMeter()
			for b.Loop() {
				if err := s.Write(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			meter.Report(b, b.N*size)
		})
	}
}
