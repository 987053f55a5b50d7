package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3)}, opts...)
	c, err := kfake.NewCluster(opts...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func newSink(t *testing.T, addr string, set datastore.Settings, extra config.KafkaConfig) *Sink {
	t.Helper()
	cfg := config.KafkaConfig{
		"bootstrap.servers":   addr,
		"enable.metrics.push": false,
		"log_level":           float64(3),
		"linger.ms":           float64(5),
	}
	for k, v := range extra {
		cfg[k] = v
	}
	s, err := New(cfg, set)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

// consume reads n records of topic from the start with a franz-go client.
func consume(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "got %d of %d records from %s", len(out), n, topic)
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch %s: %v", topic, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func TestKafkaConformance(t *testing.T) {
	c := newCluster(t)
	addr := c.ListenAddrs()[0]
	datastoretest.RunConformance(t,
		func(t *testing.T, set datastore.Settings) datastore.Sink { return newSink(t, addr, set, nil) },
		func(t *testing.T, dest string, n int) []datastoretest.Delivered {
			var out []datastoretest.Delivered
			for _, r := range consume(t, addr, dest, n) {
				h := map[string]string{}
				for _, kv := range r.Headers {
					h[kv.Key] = string(kv.Value)
				}
				out = append(out, datastoretest.Delivered{Destination: r.Topic, Key: string(r.Key), Value: r.Value, Headers: h})
			}
			return out
		},
		datastoretest.Options{Key: true, Headers: true})
}

func TestKafkaConfigMap(t *testing.T) {
	tests := []struct {
		name    string
		cfg     config.KafkaConfig
		check   func(t *testing.T, cm map[string]any)
		wantErr string
	}{
		{"defaults", config.KafkaConfig{"bootstrap.servers": "b"}, func(t *testing.T, cm map[string]any) {
			require.Equal(t, true, cm["enable.idempotence"])
			require.Equal(t, "all", cm["acks"])
			require.Equal(t, true, cm["go.delivery.reports"])
			require.Equal(t, "none", cm["go.delivery.report.fields"])
			require.Equal(t, 1, cm["max.in.flight.requests.per.connection"])
			require.Equal(t, "lz4", cm["compression.type"])
		}, ""},
		{"compression_off_by_alias", config.KafkaConfig{"bootstrap.servers": "b", "compression.codec": "none"}, func(t *testing.T, cm map[string]any) {
			require.Equal(t, "none", cm["compression.codec"])
			require.NotContains(t, cm, "compression.type")
		}, ""},
		{"override_in_flight", config.KafkaConfig{"bootstrap.servers": "b",
			"max.in.flight.requests.per.connection": float64(5)}, func(t *testing.T, cm map[string]any) {
			require.Equal(t, 5, cm["max.in.flight.requests.per.connection"])
		}, ""},
		{"override_by_alias", config.KafkaConfig{"bootstrap.servers": "b", "max.in.flight": float64(3),
			"request.required.acks": float64(1)}, func(t *testing.T, cm map[string]any) {
			require.Equal(t, 3, cm["max.in.flight"])
			require.NotContains(t, cm, "max.in.flight.requests.per.connection")
			require.Equal(t, 1, cm["request.required.acks"])
			require.NotContains(t, cm, "acks")
		}, ""},
		{"override_acks_and_numbers", config.KafkaConfig{"bootstrap.servers": "b", "acks": "1", "linger.ms": float64(20), "x": 0.5}, func(t *testing.T, cm map[string]any) {
			require.Equal(t, "1", cm["acks"])
			require.Equal(t, 20, cm["linger.ms"])
			require.InDelta(t, 0.5, cm["x"], 0)
		}, ""},
		{"delivery_reports_off", config.KafkaConfig{"bootstrap.servers": "b", "go.delivery.reports": false}, nil, "kafka.go.delivery.reports"},
		{"no_servers", config.KafkaConfig{}, nil, "kafka.bootstrap.servers"},
		{"report_fields", config.KafkaConfig{"bootstrap.servers": "b", "go.delivery.report.fields": "all"}, nil, "kafka.go.delivery.report.fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cm, err := configMap(tc.cfg)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			plain := map[string]any{}
			for k, v := range cm {
				plain[k] = v
			}
			tc.check(t, plain)
		})
	}
}

// writeUntilDone retries Write like the pipeline does (only the failed
// records of a partial failure) until the batch is delivered.
func writeUntilDone(t *testing.T, s datastore.Sink, batch []datastore.Record) (attempts int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for len(batch) > 0 {
		attempts++
		require.True(t, time.Now().Before(deadline), "batch not delivered in time")
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		err := s.Write(ctx, batch)
		cancel()
		var partial *datastore.PartialError
		switch {
		case err == nil:
			return attempts
		case errors.As(err, &partial):
			require.False(t, datastore.IsPermanent(partial.Errs[0]), "unexpected permanent error: %v", err)
			next := make([]datastore.Record, 0, len(partial.Failed))
			for _, i := range partial.Failed {
				next = append(next, batch[i])
			}
			batch = next
		default:
			t.Logf("write attempt %d: %v", attempts, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return attempts
}

// TestKafkaBrokerRestart stops the broker mid-run and brings it back on the
// same port and data directory: every record must arrive, in order per VIN.
func TestKafkaBrokerRestart(t *testing.T) {
	port, dir := datastoretest.FreePort(t), t.TempDir()
	opts := []kfake.Opt{kfake.Ports(port), kfake.DataDir(dir), kfake.SeedTopics(3, "fleet_V")}
	c := newCluster(t, opts...)
	addr := c.ListenAddrs()[0]
	s := newSink(t, addr, datastore.Settings{Namespace: "fleet"}, nil)

	const batches, size, vins = 12, 500, 10
	var wg sync.WaitGroup
	var restarted *kfake.Cluster
	for b := range batches {
		if b == 4 {
			c.Close()
			wg.Go(func() {
				time.Sleep(1500 * time.Millisecond)
				var err error
				restarted, err = kfake.NewCluster(append([]kfake.Opt{kfake.AllowAutoTopicCreation()}, opts...)...)
				if err != nil {
					t.Errorf("restart broker: %v", err)
				}
			})
		}
		writeUntilDone(t, s, datastoretest.Synthetic(t, uint64(b*size+1), size, vins))
	}
	wg.Wait()
	require.NotNil(t, restarted)
	t.Cleanup(restarted.Close)

	records := consumeAll(t, addr, "fleet_V", batches*size)
	dups := checkOrderPerVIN(t, records, batches*size)
	t.Logf("broker restart: %d records delivered, %d duplicates", batches*size, dups)
}

func consumeAll(t *testing.T, addr, topic string, unique int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	seen := map[string]bool{}
	var out []*kgo.Record
	for len(seen) < unique {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "got %d of %d unique records", len(seen), unique)
		for _, r := range fs.Records() {
			out = append(out, r)
			seen[recordID(r)] = true
		}
	}
	return out
}

func recordID(r *kgo.Record) string {
	for _, h := range r.Headers {
		if h.Key == "record_id" {
			return string(h.Value)
		}
	}
	return ""
}

// checkOrderPerVIN checks that all want indexes arrived and that, per VIN,
// first occurrences are in increasing order; it returns the duplicates.
func checkOrderPerVIN(t *testing.T, records []*kgo.Record, want int) int {
	t.Helper()
	last := map[string]uint64{}
	seen := map[uint64]bool{}
	dups := 0
	for _, r := range records {
		idx := datastoretest.SyntheticIndex(t, r.Value)
		if seen[idx] {
			dups++
			continue
		}
		seen[idx] = true
		require.Greater(t, idx, last[string(r.Key)], "order broken for %s", r.Key)
		last[string(r.Key)] = idx
	}
	require.Len(t, seen, want)
	return dups
}

func TestKafkaInjectedErrors(t *testing.T) {
	tests := []struct {
		name      string
		fault     kfake.Fault
		extra     config.KafkaConfig
		wantErr   bool
		permanent bool
	}{
		{"retriable_absorbed_by_producer", kfake.Fault{Err: kerr.NotEnoughReplicas, Count: 3}, nil, false, false},
		{"retriable_until_timeout", kfake.Fault{Err: kerr.NotEnoughReplicas, Count: -1},
			config.KafkaConfig{"message.timeout.ms": float64(1500)}, true, false},
		{"message_too_large", kfake.Fault{Err: kerr.MessageTooLarge, Count: -1}, nil, true, true},
		{"invalid_topic", kfake.Fault{Err: kerr.InvalidTopicException, Count: -1}, nil, true, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			ns := fmt.Sprintf("f%d", i)
			tc.fault.Keys = []kmsg.Key{kmsg.Produce}
			tc.fault.Topic = ns + "_V"
			h := c.Fault(tc.fault)
			s := newSink(t, c.ListenAddrs()[0], datastore.Settings{Namespace: ns}, tc.extra)
			batch := datastoretest.Synthetic(t, 1, 20, 4)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			err := s.Write(ctx, batch)
			require.Positive(t, h.Hits())
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			var partial *datastore.PartialError
			require.ErrorAs(t, err, &partial)
			require.Len(t, partial.Failed, len(batch))
			for _, e := range partial.Errs {
				require.Equal(t, tc.permanent, datastore.IsPermanent(e), "%v", e)
			}
			h.Remove()
			if !tc.permanent {
				require.NoError(t, s.Write(ctx, batch), "retry after the fault cleared")
			}
		})
	}
}

// TestKafkaFatalErrorReplacesProducer restarts the broker without its data:
// the idempotent producer's state is gone, librdkafka raises a fatal error,
// and the sink must replace the producer so that retried Writes succeed.
func TestKafkaFatalErrorReplacesProducer(t *testing.T) {
	port := datastoretest.FreePort(t)
	c := newCluster(t, kfake.Ports(port), kfake.SeedTopics(1, "fatal_V"))
	addr := c.ListenAddrs()[0]
	s := newSink(t, addr, datastore.Settings{Namespace: "fatal"}, nil)
	writeUntilDone(t, s, datastoretest.Synthetic(t, 1, 50, 1))
	first := s.prod

	c.Close()
	fresh := newCluster(t, kfake.Ports(port), kfake.SeedTopics(1, "fatal_V"))
	writeUntilDone(t, s, datastoretest.Synthetic(t, 51, 50, 1))
	require.NotSame(t, first, s.prod, "the producer was not replaced after the fatal error")
	got := consumeAll(t, fresh.ListenAddrs()[0], "fatal_V", 50)
	require.Equal(t, "0-51", recordID(got[0]))
}

func TestKafkaBatchMaxRecords(t *testing.T) {
	s, err := New(config.KafkaConfig{"bootstrap.servers": "127.0.0.1:1"}, datastore.Settings{Namespace: "n"})
	require.NoError(t, err)
	defer func() { _ = s.Close(t.Context()) }()
	require.Equal(t, DefaultBatchMaxRecords, datastore.PreferredBatchMaxRecords(s))
	require.Greater(t, DefaultBatchMaxRecords, config.DefaultBatchMaxRecords)
}
