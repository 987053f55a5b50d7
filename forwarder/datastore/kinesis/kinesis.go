// Package kinesis is the `kinesis` sink: records go to Amazon Kinesis Data
// Streams with PutRecords, addressed by stream name (env
// KINESIS_STREAM_<UPPER(topic)>, else `kinesis.streams[topic]`, else
// "<namespace>_<topic>"), with the VIN as partition key and the value alone
// as data, as the reference sends it: Kinesis records have no headers, so
// the reference's metadata and fleetrelay's record_id do not travel (a
// consumer that must drop duplicates can key on the payload's VIN and
// created_at).
//
// A batch is cut into PutRecords calls of at most 500 records and 5 MiB;
// a record over 1 MiB (data plus key) fails permanently. Records Kinesis
// reports as failed come back in a *datastore.PartialError, throttled
// (datastore.RetryAfter) for ProvisionedThroughputExceededException. Note
// that Kinesis keeps the records of one call in order only among those that
// succeed: a failed record retried later lands after its successors.
//
// Credentials and region come from the standard AWS chain (AWS_REGION,
// AWS_ACCESS_KEY_ID, shared config, instance roles, ...); `override_host`
// replaces the endpoint, for emulators; `max_retries` is the SDK's retry
// count per call.
package kinesis

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/message"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/sinkmetrics"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// Name is the dispatcher name of this sink.
const Name = "kinesis"

// PutRecords limits.
const (
	maxCallRecords = 500
	maxCallBytes   = 5 << 20
	maxRecordBytes = 1 << 20
)

// API is the part of the Kinesis client the sink uses.
type API interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// Sink puts records into Kinesis streams.
type Sink struct {
	api     API
	streams map[string]string
	set     datastore.Settings
	builder message.Builder
	metrics *sinkmetrics.Metrics

	mu     sync.Mutex
	closed bool
}

// New returns a Kinesis sink for the `kinesis` section, with a client from
// the standard AWS configuration chain.
func New(ctx context.Context, cfg *config.KinesisConfig, set datastore.Settings) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRetryMaxAttempts(*cfg.MaxRetries+1))
	if err != nil {
		return nil, fmt.Errorf("kinesis: load AWS configuration: %w", err)
	}
	client := kinesis.NewFromConfig(awsCfg, func(o *kinesis.Options) {
		if cfg.OverrideHost != "" {
			o.BaseEndpoint = aws.String(cfg.OverrideHost)
		}
	})
	return NewWithAPI(client, cfg, set)
}

// NewWithAPI returns a sink that uses api, for callers that build their own
// client.
func NewWithAPI(api API, cfg *config.KinesisConfig, set datastore.Settings) (*Sink, error) {
	set = set.WithDefaults()
	m, err := sinkmetrics.New(set.MeterProvider, Name)
	if err != nil {
		return nil, err
	}
	return &Sink{api: api, streams: cfg.Streams, set: set, builder: message.NewBuilder(set), metrics: m}, nil
}

// Name returns "kinesis".
func (s *Sink) Name() string { return Name }

// BatchMaxRecords returns 500, the most records one PutRecords call takes:
// the sink's default batch size when forwarder.batch_max_records is unset
// (datastore.BatchSizer), so that a batch is one call per stream. Larger
// batches (an explicit forwarder.batch_max_records) are split into several
// calls.
func (s *Sink) BatchMaxRecords() int { return maxCallRecords }

// StreamName returns the stream of topic: env KINESIS_STREAM_<UPPER(topic)>
// if set, else streams[topic], else "<namespace>_<topic>".
func StreamName(namespace, topic string, streams map[string]string) string {
	if v := os.Getenv("KINESIS_STREAM_" + strings.ToUpper(topic)); v != "" {
		return v
	}
	if v := streams[topic]; v != "" {
		return v
	}
	return message.DestinationName(namespace, topic)
}

// Close marks the sink closed; the SDK client holds nothing to release.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *Sink) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
