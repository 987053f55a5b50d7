package kafka

import (
	"context"
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
// from one writer and from four concurrent writers sharing the sink; and,
// as the pipeline does for one WAL partition, one writer that Submits up to
// four batches before waiting for the oldest confirmation (inflight=4).
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
	b.Run("batch=500/inflight=4", func(b *testing.B) { benchSubmit(b, 500, 4) })
}

// newBenchSink returns a sink on a new kfake cluster, connected.
func newBenchSink(b *testing.B, warmup []datastore.Record) *Sink {
	c, err := kfake.NewCluster(kfake.SeedTopics(6, "bench_V"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	s, err := New(config.KafkaConfig{
		"bootstrap.servers": c.ListenAddrs()[0], "enable.metrics.push": false,
		"linger.ms": float64(2), "compression.type": "lz4", "batch.num.messages": float64(10000),
	}, datastore.Settings{Namespace: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	if err := s.Write(b.Context(), warmup); err != nil { // connect, metadata
		b.Fatal(err)
	}
	return s
}

// benchSubmit submits a batch per iteration, keeping up to inflight
// unconfirmed, and confirms them in order.
func benchSubmit(b *testing.B, size, inflight int) {
	batch := datastoretest.Synthetic(b, 1, size, 100)
	s := newBenchSink(b, batch)
	var pending []func(context.Context) error
	confirmOldest := func() {
		if err := pending[0](b.Context()); err != nil {
			b.Fatal(err)
		}
		pending = pending[1:]
	}
	meter := datastoretest.StartMeter()
	for b.Loop() {
		if len(pending) == inflight {
			confirmOldest()
		}
		pending = append(pending, s.Submit(b.Context(), batch))
	}
	for len(pending) > 0 {
		confirmOldest()
	}
	meter.Report(b, b.N*size)
}

func benchWrite(b *testing.B, size, writers int) {
	batch := datastoretest.Synthetic(b, 1, size, 100)
	s := newBenchSink(b, batch)
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
