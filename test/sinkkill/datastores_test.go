package sinkkill

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// delivery is one message a datastore holds, mapped back to the number of
// the record it carries. Stream is the ordered stream it is in (Kafka
// partition, Kinesis shard; empty where the datastore has one order).
type delivery struct {
	stream string
	vin    string
	n      int
}

// datastore is one sink's datastore, started for one test.
type datastore interface {
	// name is the sink's dispatcher name.
	name() string
	// namespace is the config's namespace, unique per test.
	namespace() string
	// sections are the config sections the sink needs.
	sections() map[string]any
	// childEnv is the forwarder processes' extra environment.
	childEnv() []string
	// failed reports a datastore process that has exited.
	failed() error
	// read returns every message the datastore holds for the test, in the
	// datastore's order within each stream; want is how many distinct
	// records the test expects (asynchronous consumers wait for them).
	read(t *testing.T, f *fixture, want int) []delivery
}

// sinks are the datastores of every test, started anew for each.
var sinks = []struct {
	name  string
	start func(t *testing.T) datastore
}{
	{"kafka", startKafka},
	{"kinesis", startKinesis},
	{"pubsub", startPubSub},
	{"mqtt", startMQTT},
	{"logger", startLogger},
}

// uniqueNamespace returns a namespace no other run of the tests uses.
func uniqueNamespace(sink string) string {
	return fmt.Sprintf("sinkkill%s%d", sink, time.Now().UnixNano())
}

// --- Kafka: kfake in this process, on a TCP port ---

type kafkaStore struct {
	ns      string
	cluster *kfake.Cluster
}

// startKafka starts a kfake cluster with the test's topic created up front
// (kfake persists an auto-created topic lazily).
func startKafka(t *testing.T) datastore {
	ns := uniqueNamespace("kafka")
	c, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(walPartitions, ns+"_V"))
	require.NoError(t, err, "start kfake")
	t.Cleanup(c.Close)
	return &kafkaStore{ns: ns, cluster: c}
}

func (k *kafkaStore) name() string       { return "kafka" }
func (k *kafkaStore) namespace() string  { return k.ns }
func (k *kafkaStore) childEnv() []string { return nil }
func (k *kafkaStore) failed() error      { return nil }
func (k *kafkaStore) sections() map[string]any {
	return map[string]any{"kafka": map[string]any{
		"bootstrap.servers": k.cluster.ListenAddrs()[0], "log_level": 3, "enable.metrics.push": false,
	}}
}

// read consumes the topic from its start to its end offsets, partition by
// partition in offset order, and maps each message by its record_id header
// (checked against its txid header).
func (k *kafkaStore) read(t *testing.T, f *fixture, _ int) []delivery {
	topic := k.ns + "_V"
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.cluster.ListenAddrs()...),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	require.NoError(t, err)
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		require.NoError(t, o.Err, "end offset of %s/%d", o.Topic, o.Partition)
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	got := map[int32][]delivery{}
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "consuming %s: %d partitions unfinished", topic, len(want))
		for _, fe := range fs.Errors() {
			t.Fatalf("fetch %s/%d: %v", fe.Topic, fe.Partition, fe.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := want[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			h := map[string]string{}
			for _, x := range r.Headers {
				h[x.Key] = string(x.Value)
			}
			n := f.byRecordID(t, h["record_id"])
			require.Equal(t, txid(n), h["txid"], "kafka %d@%d: txid header", r.Partition, r.Offset)
			got[r.Partition] = append(got[r.Partition], delivery{stream: strconv.Itoa(int(r.Partition)), vin: string(r.Key), n: n})
			if r.Offset == end-1 {
				delete(want, r.Partition)
			}
		})
	}
	var out []delivery
	for p := range int32(walPartitions) {
		out = append(out, got[p]...)
	}
	return out
}

// byRecordID maps a record_id ("<partition>-<index>") to a record number.
func (f *fixture) byRecordID(t *testing.T, id string) int {
	t.Helper()
	ps, is, ok := strings.Cut(id, "-")
	p, err1 := strconv.Atoi(ps)
	i, err2 := strconv.ParseUint(is, 10, 64)
	require.True(t, ok && err1 == nil && err2 == nil, "record_id %q is not <partition>-<index>", id)
	n, ok := f.numberAt(p, i)
	require.True(t, ok, "record_id %q: %v", id, errUnmapped)
	return n
}

// --- Kinesis: kinesalite as a child process ---

type kinesisStore struct {
	ns       string
	endpoint string
	client   *kinesis.Client
	exited   func() bool
}

const (
	awsRegion = "us-east-1"
	awsKeyID  = "AKIAFLEETRELAYTEST"
	awsSecret = "test-secret"
)

// startKinesis starts kinesalite from .cache/kinesalite (installed by
// scripts/ci-setup.sh) and creates the test's stream with two shards.
func startKinesis(t *testing.T) datastore {
	mod := filepath.Join(testenv.RepoRoot(t), ".cache", "kinesalite", "node_modules", "kinesalite")
	if _, err := os.Stat(filepath.Join(mod, "index.js")); err != nil {
		t.Fatalf("kinesalite is not installed at %s: run scripts/ci-setup.sh (%v)", mod, err)
	}
	port := freePort(t)
	// kinesalite throws, and so exits, when a client closes its connection
	// in the middle of a request, which is what a SIGKILLed forwarder does:
	// such an error is ignored, any other still ends the process.
	script := fmt.Sprintf(`process.on('uncaughtException', e => {
  if (e && (e.code === 'ECONNRESET' || e.message === 'aborted')) return
  console.error(e); process.exit(1)
})
require(%q)({createStreamMs:20,shardLimit:100}).listen(%d,'127.0.0.1')`, mod, port)
	cmd := exec.Command("node", "-e", script)
	cmd.Stderr = os.Stderr
	exited := startService(t, cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitListening(t, addr, cmd, exited)

	k := &kinesisStore{ns: uniqueNamespace("kinesis"), endpoint: "http://" + addr, exited: exited}
	k.client = kinesis.New(kinesis.Options{
		Region: awsRegion, Credentials: credentials.NewStaticCredentialsProvider(awsKeyID, awsSecret, ""),
		BaseEndpoint: aws.String(k.endpoint),
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stream := k.ns + "_V"
	_, err := k.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2)})
	require.NoError(t, err, "create stream %s", stream)
	w := kinesis.NewStreamExistsWaiter(k.client, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 20 * time.Millisecond })
	require.NoError(t, w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)}, 20*time.Second))
	return k
}

func (k *kinesisStore) name() string { return "kinesis" }
func (k *kinesisStore) failed() error {
	if k.exited() {
		return errors.New("kinesalite exited (its output is above)")
	}
	return nil
}
func (k *kinesisStore) namespace() string { return k.ns }
func (k *kinesisStore) sections() map[string]any {
	return map[string]any{"kinesis": map[string]any{"override_host": k.endpoint}}
}

func (k *kinesisStore) childEnv() []string {
	none := filepath.Join(os.TempDir(), "fleetrelay-sinkkill-no-aws-file")
	return []string{
		"AWS_REGION=" + awsRegion, "AWS_ACCESS_KEY_ID=" + awsKeyID, "AWS_SECRET_ACCESS_KEY=" + awsSecret,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none,
	}
}

// read reads every shard from its start. Kinesis records carry no metadata,
// so a record is recognised by its content: the Odometer value that
// record() stores in it.
func (k *kinesisStore) read(t *testing.T, _ *fixture, _ int) []delivery {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	stream := aws.String(k.ns + "_V")
	shards, err := k.client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: stream})
	require.NoError(t, err)
	var out []delivery
	for _, sh := range shards.Shards {
		it, err := k.client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: stream, ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		require.NoError(t, err)
		iter := it.ShardIterator
		for iter != nil {
			res, err := k.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			require.NoError(t, err, "GetRecords %s", aws.ToString(sh.ShardId))
			for _, r := range res.Records {
				n := odometer(t, r.Data)
				out = append(out, delivery{stream: aws.ToString(sh.ShardId), vin: aws.ToString(r.PartitionKey), n: n})
			}
			if len(res.Records) == 0 {
				break // the records written before this read have all been read
			}
			iter = res.NextShardIterator
		}
	}
	return out
}

// odometer returns the record number a V payload carries.
func odometer(t *testing.T, payload []byte) int {
	t.Helper()
	var p vehiclepb.Payload
	require.NoError(t, proto.Unmarshal(payload, &p))
	for _, d := range p.GetData() {
		if d.GetKey() == vehiclepb.Field_Odometer {
			return int(d.GetValue().GetLongValue())
		}
	}
	t.Fatalf("payload of %s has no Odometer: %v", p.GetVin(), errUnmapped)
	return 0
}

// startService starts a datastore child process, killed (with its process
// group) when the test ends; the function returned reports whether it has
// exited.
func startService(t *testing.T, cmd *exec.Cmd) func() bool {
	t.Helper()
	cmd.SysProcAttr = sysProcAttrGroup()
	require.NoError(t, cmd.Start(), "start %s", cmd.Path)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		killGroup(cmd)
		<-done
	})
	return func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
}

// --- Pub/Sub: pstest in this process, on a TCP port ---

type pubsubStore struct {
	ns  string
	srv *pstest.Server
}

const gcpProject = "fleetrelay-sinkkill"

// startPubSub starts pstest on a TCP port; the forwarders reach it through
// PUBSUB_EMULATOR_HOST and create the topic themselves.
func startPubSub(t *testing.T) datastore {
	srv := pstest.NewServerWithAddress("127.0.0.1:0")
	t.Cleanup(func() { _ = srv.Close() })
	return &pubsubStore{ns: uniqueNamespace("pubsub"), srv: srv}
}

func (p *pubsubStore) name() string       { return "pubsub" }
func (p *pubsubStore) namespace() string  { return p.ns }
func (p *pubsubStore) failed() error      { return nil }
func (p *pubsubStore) childEnv() []string { return []string{"PUBSUB_EMULATOR_HOST=" + p.srv.Addr} }
func (p *pubsubStore) sections() map[string]any {
	return map[string]any{"pubsub": map[string]any{"gcp_project_id": gcpProject}}
}

// read returns the topic's messages in the order pstest received them,
// mapped by their record_id attribute (checked against txid).
func (p *pubsubStore) read(t *testing.T, f *fixture, _ int) []delivery {
	topic := fmt.Sprintf("projects/%s/topics/%s_V", gcpProject, p.ns)
	var out []delivery
	for _, m := range p.srv.Messages() {
		if m.Topic != topic {
			continue
		}
		n := f.byRecordID(t, m.Attributes["record_id"])
		require.Equal(t, txid(n), m.Attributes["txid"], "pubsub message %s: txid attribute", m.ID)
		require.Equal(t, m.Attributes["vin"], m.OrderingKey, "pubsub message %s: ordering key", m.ID)
		out = append(out, delivery{vin: m.OrderingKey, n: n})
	}
	return out
}

// --- MQTT: Mosquitto, and a subscriber with a persistent QoS 1 session ---

type mqttStore struct {
	base   string
	url    string
	exited func() bool

	mu   sync.Mutex
	msgs []delivery
	bad  []string
	last time.Time
	sub  paho.Client
}

// startMQTT starts a Mosquitto of the test's own (unlimited queues, so that
// a subscriber briefly slower than the forwarders loses nothing) and
// connects the subscriber before any forwarder runs.
func startMQTT(t *testing.T) datastore {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/mosquitto"); serr != nil {
			t.Fatalf("mosquitto not found: run scripts/ci-setup.sh (%v)", err)
		}
		bin = "/usr/sbin/mosquitto"
	}
	// Mosquitto drops privileges when started as root: its config must be
	// readable by its own user.
	dir, err := os.MkdirTemp("", "fleetrelay-sinkkill-mosquitto-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	port := freePort(t)
	conf := filepath.Join(dir, "mosquitto.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_queued_bytes 0
log_dest stderr
log_type error
log_type warning
`, port)), 0o644))
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stderr = os.Stderr
	exited := startService(t, cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitListening(t, addr, cmd, exited)

	m := &mqttStore{base: uniqueNamespace("mqtt"), url: "tcp://" + addr, exited: exited}
	opts := paho.NewClientOptions().AddBroker(m.url).SetClientID(m.base + "-subscriber").
		SetCleanSession(false).SetAutoReconnect(true).SetOrderMatters(true).SetKeepAlive(5 * time.Second)
	opts.SetOnConnectHandler(func(c paho.Client) { c.Subscribe(m.base+"/#", 1, m.handle) })
	m.sub = paho.NewClient(opts)
	tok := m.sub.Connect()
	require.True(t, tok.WaitTimeout(15*time.Second), "mqtt subscriber connect timed out")
	require.NoError(t, tok.Error(), "mqtt subscriber connect")
	t.Cleanup(func() { m.sub.Disconnect(250) })
	// The subscription is made in the connect handler: wait until a
	// message of the test's own reaches it.
	probe := m.base + "/probe"
	require.Eventually(t, func() bool {
		m.sub.Publish(probe, 1, false, "probe").WaitTimeout(time.Second)
		m.mu.Lock()
		defer m.mu.Unlock()
		return slices.Contains(m.bad, probe)
	}, 15*time.Second, 100*time.Millisecond, "the mqtt subscription never received a probe")
	m.mu.Lock()
	m.bad = nil
	m.mu.Unlock()
	return m
}

func (m *mqttStore) handle(_ paho.Client, msg paho.Message) {
	d, ok := m.parse(msg.Topic(), msg.Payload())
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = time.Now()
	if !ok {
		m.bad = append(m.bad, msg.Topic())
		return
	}
	m.msgs = append(m.msgs, d)
}

// parse maps "<base>/<VIN>/v/Odometer" with a JSON number (or numeric
// string) to a delivery: MQTT messages carry no metadata, so the record is
// recognised by its Odometer value.
func (m *mqttStore) parse(topic string, payload []byte) (delivery, bool) {
	parts := strings.Split(topic, "/")
	if len(parts) != 4 || parts[0] != m.base || parts[2] != "v" || parts[3] != "Odometer" {
		return delivery{}, false
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return delivery{}, false
	}
	var n int
	switch x := v.(type) {
	case float64:
		n = int(x)
	case string:
		i, err := strconv.Atoi(x)
		if err != nil {
			return delivery{}, false
		}
		n = i
	default:
		return delivery{}, false
	}
	return delivery{vin: parts[1], n: n}, true
}

func (m *mqttStore) name() string       { return "mqtt" }
func (m *mqttStore) namespace() string  { return "" }
func (m *mqttStore) childEnv() []string { return nil }
func (m *mqttStore) failed() error {
	if m.exited() {
		return errors.New("mosquitto exited (its output is above)")
	}
	return nil
}

// sections leave client_id out: each forwarder process then gets its own
// from the broker. Processes sharing one client_id would close each other's
// connection at every connect.
func (m *mqttStore) sections() map[string]any {
	return map[string]any{"mqtt": map[string]any{
		"broker": m.url, "topic_base": m.base, "qos": 1,
		"connect_retry_interval_ms": 200, "publish_timeout_ms": 5000,
	}}
}

// read waits until the subscriber has received want distinct records (the
// broker acknowledged them to the forwarder before the subscriber got
// them) and has then been quiet for a moment, and returns the messages in
// arrival order.
func (m *mqttStore) read(t *testing.T, _ *fixture, want int) []delivery {
	deadline := time.Now().Add(60 * time.Second)
	for {
		m.mu.Lock()
		distinct := map[int]bool{}
		for _, d := range m.msgs {
			distinct[d.n] = true
		}
		quiet := time.Since(m.last) > 300*time.Millisecond
		msgs, bad := slices.Clone(m.msgs), slices.Clone(m.bad)
		m.mu.Unlock()
		require.Empty(t, bad, "mqtt messages that map to no record")
		if len(distinct) >= want && quiet {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Logf("mqtt: %d of %d records received after 60 s", len(distinct), want)
			return msgs // the check reports what is missing
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// --- logger: its file ---

type loggerStore struct {
	ns   string
	file string
}

func startLogger(t *testing.T) datastore {
	return &loggerStore{ns: uniqueNamespace("logger"), file: filepath.Join(t.TempDir(), "records.jsonl")}
}

func (l *loggerStore) name() string       { return "logger" }
func (l *loggerStore) namespace() string  { return l.ns }
func (l *loggerStore) childEnv() []string { return nil }
func (l *loggerStore) failed() error      { return nil }
func (l *loggerStore) sections() map[string]any {
	return map[string]any{"logger": map[string]any{"file": l.file}}
}

// read returns the file's lines in order, mapped by metadata.txid. A line
// that is not JSON is the end of a batch torn by SIGKILL (its records were
// not committed and are written again): it is counted and logged.
func (l *loggerStore) read(t *testing.T, _ *fixture, _ int) []delivery {
	fh, err := os.Open(l.file)
	require.NoError(t, err)
	defer fh.Close()
	var out []delivery
	torn := 0
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var line struct {
			VIN      string `json:"vin"`
			Metadata struct {
				TxID string `json:"txid"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			torn++
			continue
		}
		s, ok := strings.CutPrefix(line.Metadata.TxID, "tx-")
		n, err := strconv.Atoi(s)
		require.True(t, ok && err == nil, "logger line with txid %q: %v", line.Metadata.TxID, errUnmapped)
		out = append(out, delivery{vin: line.VIN, n: n})
	}
	require.NoError(t, sc.Err())
	if torn > 0 {
		t.Logf("logger: %d torn lines (batches cut by SIGKILL)", torn)
	}
	return out
}
