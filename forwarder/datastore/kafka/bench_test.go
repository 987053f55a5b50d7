package kafka

import (
	"fmt"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// BenchmarkKafkaWrite measures Write (produce + every delivery report) into
// an in-process kfake broker that stores the records, with lz4 batches,
// from one writer and from four concurrent writers sharing the sink.
//
//	go test -run '^$' -bench BenchmarkKafkaWrite -benchtime 20x ./datastore/kafka/
func BenchmarkKafkaWrite(b *testing.B) {
	for _, writers := range []int{1, 4} {
		for _, size := range []int{500, 1000, 5000} {
			b.Run(fmt.Sprintf("batch=%d/writers=%d", size, writers), func(b *testing.B) {
				benchWrite(b, size, writers)
			})
		}
	}
}

func benchWrite(b *testing.B, size, writers int) {
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
	if err := s.Write(b.Context(), batch); err != nil { // warm-up: connect, metadata
		b.Fatal(err)
	}
	meter := datastoretest.StartMeter()
	for b.Loop() {
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				if err := s.Write(b.Context(), batch); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	meter.Report(b, b.N*size*writers)
}
