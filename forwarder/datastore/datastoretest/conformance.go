package datastoretest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/message"
)

// Delivered is one message as a consumer read it back from the datastore.
type Delivered struct {
	Destination string
	Key         string
	Value       []byte
	// Headers are the message's headers or attributes; nil when the
	// datastore carries none (Kinesis).
	Headers map[string]string
}

// Options tells RunConformance what the datastore carries besides the value.
type Options struct {
	// Key: the datastore keeps the partition/ordering key (Kafka, Kinesis,
	// Pub/Sub ordering key).
	Key bool
	// Headers: the datastore keeps headers or attributes (Kafka, Pub/Sub).
	Headers bool
}

// NewSinkFunc creates the sink under test for the given settings. The
// function registers its own cleanup.
type NewSinkFunc func(t *testing.T, set datastore.Settings) datastore.Sink

// ConsumeFunc reads exactly n messages from destination, in the order the
// datastore keeps them, failing the test if they do not arrive.
type ConsumeFunc func(t *testing.T, destination string, n int) []Delivered

// Mode is one combination of top-level options RunConformance covers.
type Mode struct {
	Name                   string
	Namespace              string
	TransmitDecodedRecords bool
}

// Modes are the option combinations RunConformance covers: a namespace with
// protobuf values, and the empty namespace (destinations "_V", ...) with
// protojson values.
var Modes = []Mode{
	{Name: "protobuf", Namespace: "tesla_telemetry"},
	{Name: "decoded_empty_namespace", Namespace: "", TransmitDecodedRecords: true},
}

// RunConformance writes every conformance vector through a new sink in each
// Mode and checks what the consumer reads: destination "<namespace>_<topic>",
// key = VIN, value = CASE.dispatch.pb (or CASE.decoded.json, compared as
// JSON), headers = the reference's dispatch_metadata plus record_id.
func RunConformance(t *testing.T, newSink NewSinkFunc, consume ConsumeFunc, opts Options) {
	t.Helper()
	vectors := Vectors(t)
	for _, mode := range Modes {
		t.Run(mode.Name, func(t *testing.T) {
			set := datastore.Settings{Namespace: mode.Namespace, TransmitDecodedRecords: mode.TransmitDecodedRecords}
			sink := newSink(t, set)
			batch := make([]datastore.Record, len(vectors))
			for i, v := range vectors {
				batch[i] = v.Record
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			require.NoError(t, sink.Write(ctx, batch))
			checkDelivered(t, mode, vectors, consume, opts)
		})
	}
}

func checkDelivered(t *testing.T, mode Mode, vectors []Vector, consume ConsumeFunc, opts Options) {
	t.Helper()
	byDest := map[string][]Vector{}
	var order []string
	for _, v := range vectors {
		dest := message.DestinationName(mode.Namespace, v.Record.WAL.GetTopic())
		if _, seen := byDest[dest]; !seen {
			order = append(order, dest)
		}
		byDest[dest] = append(byDest[dest], v)
	}
	for _, dest := range order {
		want := byDest[dest]
		got := consume(t, dest, len(want))
		require.Len(t, got, len(want), dest)
		for i, v := range want {
			t.Run(v.Name, func(t *testing.T) { checkOne(t, mode, v, got[i], dest, opts) })
		}
	}
}

func checkOne(t *testing.T, mode Mode, v Vector, got Delivered, dest string, opts Options) {
	require.Equal(t, dest, got.Destination)
	if mode.TransmitDecodedRecords {
		require.JSONEq(t, string(v.Decoded), string(got.Value))
	} else {
		require.Equal(t, v.Dispatch, got.Value)
	}
	if opts.Key {
		require.Equal(t, v.Metadata["vin"], got.Key)
	}
	if opts.Headers {
		want := map[string]string{message.KeyRecordID: v.Record.ID()}
		for k, val := range v.Metadata {
			want[k] = val
		}
		require.Equal(t, want, got.Headers)
	}
}
