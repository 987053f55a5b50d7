package service

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/kafka"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/kinesis"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/logger"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/mqtt"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/pubsub"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// newSinkFunc builds the sink of one drain run.
type newSinkFunc func(ctx context.Context) (datastore.Sink, error)

// drainCase is one sink of BenchmarkDrain: its backlog size and how to
// start its datastore (once per sub-benchmark) and build the real sink.
type drainCase struct {
	name    string
	records int
	setup   func(b *testing.B) newSinkFunc
}

// drainCases are the sinks with their datastores. The backlog is smaller
// where the datastore is slow, so that a run stays near half a minute;
// each datastore's own limit is its sink's Write benchmark with the
// largest batch (BenchmarkKafkaWrite, ... in the datastore packages).
var drainCases = []drainCase{
	// kfake in this process: 3 brokers, topic bench_V with 6 partitions,
	// every record kept in memory.
	{name: "kafka", records: 1_000_000, setup: kafkaDrain},
	// A file with an fsync per batch; rendering a record's fields as JSON
	// is what bounds it.
	{name: "logger", records: 200_000, setup: loggerDrain},
	// pstest in this process (one topic, ordering keys).
	{name: "pubsub", records: 100_000, setup: pubsubDrain},
	// kinesalite (node) in another process, one shard.
	{name: "kinesis", records: 100_000, setup: kinesisDrain},
	// mosquitto in another process, QoS 1; each record is one message per
	// field (12 here).
	{name: "mqtt", records: 20_000, setup: mqttDrain},
}

// BenchmarkDrain drains a WAL backlog through the real forwarder service
// (ownership, one pipeline per partition, durable cursors, the default
// forwarder settings) into each real sink with its default settings and
// its datastore, and measures records/s from the start of the service
// until the durable cursors of all partitions cover the whole backlog, that
// is until the datastore has confirmed every record. The datastores are
// emulators on this machine (see drainCases). records/cpu-s counts the CPU
// of the whole test process, in-process emulators included.
//
//	go test -run '^$' -bench BenchmarkDrain/kafka -benchtime 1x ./internal/service/
func BenchmarkDrain(b *testing.B) {
	for _, c := range drainCases {
		for _, partitions := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/records=%d/partitions=%d", c.name, c.records, partitions), func(b *testing.B) {
				benchDrain(b, c, partitions)
			})
		}
	}
}

// benchDrain writes the backlog once and drains it in every iteration
// under a new sink name (so from fresh cursors).
func benchDrain(b *testing.B, c drainCase, partitions int) {
	dir, _ := backlog(b, c.records, partitions)
	newSink := c.setup(b)
	var elapsed time.Duration
	cpu := cpuTime(b)
	run := 0
	for b.Loop() {
		run++
		elapsed += drainInto(b, dir, fmt.Sprintf("%s-run%d", c.name, run), partitions, uint64(c.records), newSink)
	}
	total := float64(c.records) * float64(b.N)
	b.ReportMetric(total/elapsed.Seconds(), "records/s")
	b.ReportMetric(total/(cpuTime(b)-cpu).Seconds(), "records/cpu-s")
}

// drainInto runs the service with one sink named sink until the cursors of
// all partitions sum to n, and returns how long that took.
func drainInto(b *testing.B, dir, sink string, partitions int, n uint64, newSink newSinkFunc) time.Duration {
	cfg := &config.Config{Records: map[string][]string{"V": {sink}}, WAL: config.WALConfig{Dir: dir},
		Forwarder: config.ForwarderConfig{PartitionRebalanceIntervalMs: 10}}
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() {
		runErr = Run(ctx, cfg, []string{sink}, Settings{
			NewSink: func(ctx context.Context, _ string) (datastore.Sink, error) { return newSink(ctx) },
		})
	})
	for committed(b, dir, sink, partitions) < n {
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	require.NoError(b, runErr)
	return elapsed
}

func kafkaDrain(b *testing.B) newSinkFunc {
	c, err := kfake.NewCluster(kfake.SeedTopics(6, "bench_V"))
	require.NoError(b, err)
	b.Cleanup(c.Close)
	return func(context.Context) (datastore.Sink, error) {
		return kafka.New(config.KafkaConfig{"bootstrap.servers": c.ListenAddrs()[0], "enable.metrics.push": false},
			datastore.Settings{Namespace: "bench"})
	}
}

func loggerDrain(b *testing.B) newSinkFunc {
	dir := b.TempDir()
	n := 0
	return func(context.Context) (datastore.Sink, error) {
		n++
		return logger.New(&config.LoggerConfig{File: filepath.Join(dir, fmt.Sprintf("run%d.log", n))}, datastore.Settings{Namespace: "bench"})
	}
}

func pubsubDrain(b *testing.B) newSinkFunc {
	srv := pstest.NewServerWithAddress(fmt.Sprintf("127.0.0.1:%d", datastoretest.FreePort(b)))
	b.Cleanup(func() { _ = srv.Close() })
	b.Setenv("PUBSUB_EMULATOR_HOST", srv.Addr)
	b.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	return func(ctx context.Context) (datastore.Sink, error) {
		return pubsub.New(ctx, &config.PubSubConfig{GCPProjectID: "bench"}, datastore.Settings{Namespace: "bench"})
	}
}

// kinesisDrain starts kinesalite (installed by scripts/ci-setup.sh) with a
// one-shard stream bench_V.
func kinesisDrain(b *testing.B) newSinkFunc {
	mod := filepath.Join(testenv.RepoRoot(b), ".cache", "kinesalite", "node_modules", "kinesalite")
	if _, err := os.Stat(filepath.Join(mod, "index.js")); err != nil {
		b.Fatalf("kinesalite is not installed at %s: run scripts/ci-setup.sh (%v)", mod, err)
	}
	port := datastoretest.FreePort(b)
	script := fmt.Sprintf("require(%q)({createStreamMs:50,shardLimit:100}).listen(%d,'127.0.0.1')", mod, port)
	cmd := exec.Command("node", "-e", script)
	cmd.Stderr = os.Stderr
	datastoretest.StartProcess(b, cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	datastoretest.WaitListening(b, addr, 15*time.Second)
	endpoint := "http://" + addr
	b.Setenv("AWS_REGION", "us-east-1")
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIAFLEETRELAYBENCH")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "bench-secret")
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_CONFIG_FILE", filepath.Join(b.TempDir(), "none"))
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(b.TempDir(), "none"))
	cl := awskinesis.New(awskinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAFLEETRELAYBENCH", "bench-secret", "")})
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	_, err := cl.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String("bench_V"), ShardCount: aws.Int32(1)})
	require.NoError(b, err)
	w := awskinesis.NewStreamExistsWaiter(cl, func(o *awskinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	require.NoError(b, w.Wait(ctx, &awskinesis.DescribeStreamInput{StreamName: aws.String("bench_V")}, 30*time.Second))
	return func(ctx context.Context) (datastore.Sink, error) {
		return kinesis.New(ctx, &config.KinesisConfig{OverrideHost: endpoint}, datastore.Settings{Namespace: "bench"})
	}
}

// mqttDrain starts mosquitto with one anonymous plain listener.
func mqttDrain(b *testing.B) newSinkFunc {
	if _, err := exec.LookPath("mosquitto"); err != nil {
		b.Fatalf("mosquitto not found: run scripts/ci-setup.sh (%v)", err)
	}
	dir, err := os.MkdirTemp("", "fleetrelay-mosquitto-")
	require.NoError(b, err)
	b.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(b, os.Chmod(dir, 0o755)) // mosquitto reads it after dropping privileges
	port := datastoretest.FreePort(b)
	conf := filepath.Join(dir, "mosquitto.conf")
	require.NoError(b, os.WriteFile(conf, fmt.Appendf(nil,
		"persistence false\nlog_dest stderr\nlog_type error\nlistener %d 127.0.0.1\nallow_anonymous true\n", port), 0o644))
	cmd := exec.Command("mosquitto", "-c", conf)
	cmd.Stderr = os.Stderr
	datastoretest.StartProcess(b, cmd)
	datastoretest.WaitListening(b, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	n := 0
	return func(context.Context) (datastore.Sink, error) {
		n++
		return mqtt.New(&config.MQTTConfig{Broker: fmt.Sprintf("tcp://127.0.0.1:%d", port), TopicBase: "bench", QoS: 1,
			ClientID: fmt.Sprintf("bench-drain-%d", n)}, datastore.Settings{Namespace: "bench"})
	}
}
