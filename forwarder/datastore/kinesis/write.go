package kinesis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// throttleDelay is how long a throttled record should wait: Kinesis shard
// limits are per second.
const throttleDelay = time.Second

// call is one PutRecords request: the batch indexes it carries.
type call struct {
	stream  string
	idx     []int
	entries []types.PutRecordsRequestEntry
	bytes   int
}

// Write puts the batch, stream by stream, in calls within the PutRecords
// limits, and reports per-record failures.
func (s *Sink) Write(ctx context.Context, batch []datastore.Record) error {
	if s.isClosed() {
		return datastore.ErrClosed
	}
	errs := make([]error, len(batch))
	for _, c := range s.plan(batch, errs) {
		s.put(ctx, c, batch, errs)
	}
	partial := &datastore.PartialError{}
	for i, err := range errs {
		if err != nil {
			partial.Add(i, err)
		}
	}
	s.metrics.Acked(ctx, len(batch)-len(partial.Failed))
	s.metrics.Failed(ctx, len(partial.Failed))
	return partial.Err()
}

// plan groups the batch into calls, keeping batch order within a stream.
// Records that cannot be sent get their error in errs.
func (s *Sink) plan(batch []datastore.Record, errs []error) []*call {
	open := map[string]*call{}
	var calls []*call
	for i, rec := range batch {
		m, err := s.builder.Build(rec)
		if err != nil {
			errs[i] = err
			continue
		}
		stream := StreamName(s.set.Namespace, rec.WAL.GetTopic(), s.streams)
		size := len(m.Value) + len(m.Key)
		if size > maxRecordBytes {
			errs[i] = datastore.Permanent(fmt.Errorf("kinesis: record %s is %d bytes, over the 1 MiB limit", rec.ID(), size))
			continue
		}
		c := open[stream]
		if c == nil || len(c.idx) == maxCallRecords || c.bytes+size > maxCallBytes {
			c = &call{stream: stream}
			open[stream] = c
			calls = append(calls, c)
		}
		c.idx = append(c.idx, i)
		c.bytes += size
		c.entries = append(c.entries, types.PutRecordsRequestEntry{Data: m.Value, PartitionKey: aws.String(m.Key)})
	}
	return calls
}

// put sends one call and records each entry's outcome in errs.
func (s *Sink) put(ctx context.Context, c *call, batch []datastore.Record, errs []error) {
	s.metrics.Sent(ctx, len(c.entries), c.bytes)
	out, err := s.api.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(c.stream), Records: c.entries})
	if err != nil {
		err = classifyCall(fmt.Errorf("kinesis: PutRecords to %s: %w", c.stream, err))
		for _, i := range c.idx {
			errs[i] = err
		}
		return
	}
	if len(out.Records) != len(c.entries) {
		err := fmt.Errorf("kinesis: PutRecords to %s answered %d results for %d records", c.stream, len(out.Records), len(c.entries))
		for _, i := range c.idx {
			errs[i] = err
		}
		return
	}
	for j, r := range out.Records {
		if r.ErrorCode != nil {
			errs[c.idx[j]] = recordErr(batch[c.idx[j]], c.stream, r)
		}
	}
}

func recordErr(rec datastore.Record, stream string, r types.PutRecordsResultEntry) error {
	err := fmt.Errorf("kinesis: record %s to %s: %s: %s", rec.ID(), stream, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
	if aws.ToString(r.ErrorCode) == "ProvisionedThroughputExceededException" {
		return datastore.RetryAfter(err, throttleDelay)
	}
	return err
}

// classifyCall classifies an error of a whole PutRecords call. Throttling
// asks for a delay; a request Kinesis finds invalid cannot succeed. A
// missing stream stays transient: it can be created.
func classifyCall(err error) error {
	var throttled *types.ProvisionedThroughputExceededException
	var limit *types.LimitExceededException
	if errors.As(err, &throttled) || errors.As(err, &limit) {
		return datastore.RetryAfter(err, throttleDelay)
	}
	var invalid *types.InvalidArgumentException
	var apiErr smithy.APIError
	if errors.As(err, &invalid) || (errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException") {
		return datastore.Permanent(err)
	}
	return err
}
