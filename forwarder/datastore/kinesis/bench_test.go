package kinesis

import (
	"fmt"
	"testing"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// BenchmarkKinesisWrite measures Write into kinesalite (a one-shard stream;
// kinesalite itself tops out near 10k records/s on this kind of machine).
//
//	go test -run '^$' -bench BenchmarkKinesisWrite -benchtime 10x ./datastore/kinesis/
func BenchmarkKinesisWrite(b *testing.B) {
	e := startKinesalite(b)
	cl := client(e.endpoint())
	setAWSEnv(b)
	for _, size := range []int{500, 2000} {
		ns := fmt.Sprintf("bench%d", size)
		createStreams(b, cl, ns+"_V")
		s, err := New(b.Context(), &config.KinesisConfig{OverrideHost: e.endpoint()}, datastore.Settings{Namespace: ns})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
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
