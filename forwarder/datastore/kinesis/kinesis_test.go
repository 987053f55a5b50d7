package kinesis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

var topics = []string{"V", "alerts", "errors", "connectivity"}

func newSink(t testing.TB, cfg *config.KinesisConfig, set datastore.Settings) *Sink {
	t.Helper()
	setAWSEnv(t)
	s, err := New(t.Context(), cfg, set)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func TestKinesisConformance(t *testing.T) {
	e := startKinesalite(t)
	cl := client(e.endpoint())
	datastoretest.RunConformance(t,
		func(t *testing.T, set datastore.Settings) datastore.Sink {
			var names []string
			for _, tp := range topics {
				names = append(names, set.Namespace+"_"+tp)
			}
			createStreams(t, cl, names...)
			return newSink(t, &config.KinesisConfig{OverrideHost: e.endpoint()}, set)
		},
		func(t *testing.T, stream string, n int) []datastoretest.Delivered {
			var out []datastoretest.Delivered
			for _, r := range readStream(t, cl, stream, n) {
				out = append(out, datastoretest.Delivered{Destination: stream, Key: aws.ToString(r.PartitionKey), Value: r.Data})
			}
			return out
		},
		datastoretest.Options{Key: true})
}

func TestKinesisStreamNames(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		streams map[string]string
		want    string
	}{
		{"namespace", "", nil, "ns_V"},
		{"config_map", "", map[string]string{"V": "cfg_v"}, "cfg_v"},
		{"env_wins", "env_v", map[string]string{"V": "cfg_v"}, "env_v"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KINESIS_STREAM_V", tc.env)
			require.Equal(t, tc.want, StreamName("ns", "V", tc.streams))
		})
	}
}

// TestKinesisEnvOverrideDelivers checks end to end that
// KINESIS_STREAM_<TOPIC> redirects a topic.
func TestKinesisEnvOverrideDelivers(t *testing.T) {
	e := startKinesalite(t)
	cl := client(e.endpoint())
	createStreams(t, cl, "custom_alerts_stream")
	t.Setenv("KINESIS_STREAM_ALERTS", "custom_alerts_stream")
	s := newSink(t, &config.KinesisConfig{OverrideHost: e.endpoint(), Streams: map[string]string{"alerts": "ignored"}}, datastore.Settings{Namespace: "ns"})
	recs := datastoretest.Synthetic(t, 1, 3, 1)
	for i := range recs {
		recs[i].WAL.Topic = "alerts"
	}
	require.NoError(t, s.Write(t.Context(), recs))
	require.Len(t, readStream(t, cl, "custom_alerts_stream", 3), 3)
}

// TestKinesisEmulatorRestart stops kinesalite mid-run: Writes fail as
// transient errors during the outage and succeed once it is back; every
// record ends up in the stream, in order per VIN.
func TestKinesisEmulatorRestart(t *testing.T) {
	e := startKinesalite(t)
	cl := client(e.endpoint())
	createStreams(t, cl, "fleet_V")
	s := newSink(t, &config.KinesisConfig{OverrideHost: e.endpoint()}, datastore.Settings{Namespace: "fleet"})

	const batches, size = 8, 250
	failures := 0
	for b := range batches {
		if b == 3 {
			e.proc.Stop()
		}
		recs := datastoretest.Synthetic(t, uint64(b*size+1), size, 5)
		for attempt := 0; ; attempt++ {
			require.Less(t, attempt, 100, "batch %d never delivered", b)
			err := s.Write(t.Context(), recs)
			if err == nil {
				break
			}
			failures++
			require.False(t, datastore.IsPermanent(err), "%v", err)
			if e.proc.Exited() && attempt == 2 {
				e.start(t)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	require.Positive(t, failures, "the outage was not observed")
	got := readStream(t, cl, "fleet_V", batches*size)
	seen := map[uint64]bool{}
	last := map[string]uint64{}
	dups := 0
	for _, r := range got {
		idx := datastoretest.SyntheticIndex(t, r.Data)
		if seen[idx] {
			dups++
			continue
		}
		seen[idx] = true
		require.Greater(t, idx, last[aws.ToString(r.PartitionKey)])
		last[aws.ToString(r.PartitionKey)] = idx
	}
	require.Len(t, seen, batches*size)
	t.Logf("emulator restart: %d failed Writes, %d records, %d duplicates", failures, len(seen), dups)
}

// throttlingProxy forwards to kinesalite and rewrites the result of every
// record at an odd position of each PutRecords answer into a
// ProvisionedThroughputExceededException (kinesalite stored it anyway).
func throttlingProxy(t testing.TB, target string) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasSuffix(resp.Request.Header.Get("X-Amz-Target"), ".PutRecords") || resp.StatusCode != http.StatusOK {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		body, err = throttleOdd(body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv
}

func throttleOdd(body []byte) ([]byte, error) {
	var out struct {
		FailedRecordCount int
		Records           []map[string]any
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	for i := 1; i < len(out.Records); i += 2 {
		out.Records[i] = map[string]any{"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard"}
		out.FailedRecordCount++
	}
	return json.Marshal(out)
}

func TestKinesisPerRecordThrottling(t *testing.T) {
	e := startKinesalite(t)
	cl := client(e.endpoint())
	createStreams(t, cl, "thr_V")
	proxy := throttlingProxy(t, e.endpoint())
	s := newSink(t, &config.KinesisConfig{OverrideHost: proxy.URL}, datastore.Settings{Namespace: "thr"})
	batch := datastoretest.Synthetic(t, 1, 10, 2)

	err := s.Write(t.Context(), batch)
	var partial *datastore.PartialError
	require.ErrorAs(t, err, &partial)
	require.Equal(t, []int{1, 3, 5, 7, 9}, partial.Failed)
	for _, e := range partial.Errs {
		var thr *datastore.ThrottledError
		require.True(t, errors.As(e, &thr), "%v", e)
		require.Equal(t, time.Second, thr.After)
	}
}

func TestKinesisLimits(t *testing.T) {
	s, err := NewWithAPI(nil, &config.KinesisConfig{}, datastore.Settings{Namespace: "n"})
	require.NoError(t, err)
	big := datastoretest.Synthetic(t, 1, 1201, 3)
	big[5].WAL.Payload = make([]byte, maxRecordBytes)
	errs := make([]error, len(big))
	calls := s.plan(big, errs)
	require.True(t, datastore.IsPermanent(errs[5]))
	require.Len(t, calls, 3, "1200 records in calls of at most 500")
	require.Len(t, calls[0].idx, 500)
	require.Len(t, calls[2].idx, 200)

	many := datastoretest.Synthetic(t, 1, 8, 1)
	for i := range many {
		many[i].WAL.Payload = make([]byte, 900<<10)
	}
	calls = s.plan(many, make([]error, len(many)))
	require.Len(t, calls, 2, "8 x 900 KiB split at 5 MiB")
}

// recordingAPI accepts every record and keeps each PutRecords request.
type recordingAPI struct {
	mu    sync.Mutex
	calls []*awskinesis.PutRecordsInput
}

func (a *recordingAPI) PutRecords(_ context.Context, in *awskinesis.PutRecordsInput, _ ...func(*awskinesis.Options)) (*awskinesis.PutRecordsOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, in)
	return &awskinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}, nil
}

// TestKinesisWriteSplitsLargeBatches writes batches above the PutRecords
// limits, as an explicit forwarder.batch_max_records above 500 makes the
// pipeline do: each call stays within 500 records and 5 MiB, and the calls
// carry the whole batch in order.
func TestKinesisWriteSplitsLargeBatches(t *testing.T) {
	api := &recordingAPI{}
	s, err := NewWithAPI(api, &config.KinesisConfig{}, datastore.Settings{Namespace: "n"})
	require.NoError(t, err)
	require.Equal(t, 500, s.BatchMaxRecords(), "the sink's default batch is one call")
	require.Equal(t, 500, datastore.PreferredBatchMaxRecords(s))

	batch := datastoretest.Synthetic(t, 1, 2001, 7)
	for i := 1900; i < len(batch); i++ { // the last 101 records of 200 KiB: 20 MiB
		batch[i].WAL.Payload = make([]byte, 200<<10)
	}
	require.NoError(t, s.Write(t.Context(), batch))
	var sizes []int
	var got [][]byte
	for _, c := range api.calls {
		require.Equal(t, "n_V", aws.ToString(c.StreamName))
		require.LessOrEqual(t, len(c.Records), maxCallRecords)
		bytes := 0
		for _, e := range c.Records {
			bytes += len(e.Data) + len(aws.ToString(e.PartitionKey))
			got = append(got, e.Data)
		}
		require.LessOrEqual(t, bytes, maxCallBytes)
		sizes = append(sizes, len(c.Records))
	}
	// 1900 small records in calls of 500, then the large ones in calls
	// of up to 5 MiB (at most 25 of 200 KiB each).
	require.Greater(t, len(api.calls), 6, "call sizes %v", sizes)
	require.Equal(t, []int{500, 500, 500}, sizes[:3])
	require.Len(t, got, len(batch))
	for i, rec := range batch {
		m, err := s.builder.Build(rec)
		require.NoError(t, err)
		require.Equal(t, m.Value, got[i], "record %d in batch order", i)
	}
}
