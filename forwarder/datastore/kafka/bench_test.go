package kafka

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// BenchmarkKafkaWrite measures Write (produce + every delivery report) into
// an in-process kfake broker that stores the records, with lz4 batches.
//
//	go test -run '^$' -bench BenchmarkKafkaWrite -benchtime 20x ./datastore/kafka/
func BenchmarkKafkaWrite(b *testing.B) {
	for _, size := range []int{500, 1000, 5000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			c, err := kfake.NewCluster(kfake.SeedTopics(6, "bench_V"))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			s, err := New(config.KafkaConfig{
				"bootstrap.servers": c.ListenAddrs()[0], "enable.metrics.push": false,
				"linger.ms": float64(2), "compression.type": "lz4", "batch.num.messages": float64(10000),
			}, datastore.Settings{Namespace: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close(b.Context()) }()
			batch := datastoretest.Synthetic(b, 1, size, 100)
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				if err := s.Write(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "records/s")
		})
	}
}
