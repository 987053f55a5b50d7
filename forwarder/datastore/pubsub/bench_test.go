package pubsub

import (
	"fmt"
	"testing"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
)

// BenchmarkPubSubWrite measures Write (publish + every PublishResult) into
// an in-process pstest server.
//
//	go test -run '^$' -bench BenchmarkPubSubWrite -benchtime 10x ./datastore/pubsub/
func BenchmarkPubSubWrite(b *testing.B) {
	startEmulator(b, "")
	for _, size := range []int{500, 5000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s := newSink(b, datastore.Settings{Namespace: fmt.Sprintf("bench%d", size)}, true)
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
