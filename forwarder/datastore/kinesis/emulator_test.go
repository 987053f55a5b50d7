package kinesis

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// emulator is a kinesalite child process on 127.0.0.1.
type emulator struct {
	port int
	dir  string
	proc *datastoretest.Process
}

func (e *emulator) endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", e.port) }

// startKinesalite starts kinesalite (installed by scripts/ci-setup.sh)
// persisting into a temporary directory, so that a restart keeps streams.
func startKinesalite(t testing.TB) *emulator {
	t.Helper()
	e := &emulator{port: datastoretest.FreePort(t), dir: t.TempDir()}
	e.start(t)
	return e
}

func (e *emulator) start(t testing.TB) {
	t.Helper()
	mod := filepath.Join(testenv.RepoRoot(t), ".cache", "kinesalite", "node_modules", "kinesalite")
	if _, err := os.Stat(filepath.Join(mod, "index.js")); err != nil {
		t.Fatalf("kinesalite is not installed at %s: run scripts/ci-setup.sh (%v)", mod, err)
	}
	script := fmt.Sprintf("require(%q)({createStreamMs:50,shardLimit:100,path:%q}).listen(%d,'127.0.0.1')", mod, e.dir, e.port)
	cmd := exec.Command("node", "-e", script)
	cmd.Stderr = os.Stderr
	e.proc = datastoretest.StartProcess(t, cmd)
	datastoretest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", e.port), 15*time.Second)
}

// setAWSEnv points the default AWS chain at fixed test credentials.
func setAWSEnv(t testing.TB) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFLEETRELAYTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

func client(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAFLEETRELAYTEST", "test-secret", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// createStreams creates one-shard streams and waits until they are active.
func createStreams(t testing.TB, cl *kinesis.Client, names ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, n := range names {
		_, err := cl.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(n), ShardCount: aws.Int32(1)})
		require.NoError(t, err, "create stream %s", n)
	}
	w := kinesis.NewStreamExistsWaiter(cl, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	for _, n := range names {
		require.NoError(t, w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(n)}, 20*time.Second), n)
	}
}

// readStream returns n records of a one-shard stream from its start.
func readStream(t testing.TB, cl *kinesis.Client, stream string, n int) []types.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	shards, err := cl.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	require.NoError(t, err)
	require.Len(t, shards.Shards, 1)
	it, err := cl.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: shards.Shards[0].ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	require.NoError(t, err)
	iter := it.ShardIterator
	var out []types.Record
	for len(out) < n {
		res, err := cl.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		require.NoError(t, err, "got %d of %d records from %s", len(out), n, stream)
		out = append(out, res.Records...)
		iter = res.NextShardIterator
		if len(res.Records) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return out
}
