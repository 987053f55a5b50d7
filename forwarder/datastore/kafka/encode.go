package kafka

import (
	"strconv"
	"unsafe"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/message"
)

// numHeaders is the number of headers of every message: the reference's
// seven metadata entries and record_id (message.Headers).
const numHeaders = 8

// encoder turns records into producer messages without allocating per
// record. It produces exactly what message.Builder builds (topic, key,
// value, and message.Headers in the same order with the same values), but
// it reuses one ckafka.Message, its header array and a scratch buffer for
// the numeric values, and passes string fields as read-only views of their
// bytes. That is safe because Produce copies everything before it returns:
// confluent-kafka-go copies header names and values into C memory and
// always produces with RD_KAFKA_MSG_F_COPY, and it keeps no reference to
// the Message (the delivery report is a new one built from C). An encoder
// is used by one goroutine at a time (under Sink.produceMu).
type encoder struct {
	builder message.Builder
	msg     ckafka.Message
	headers [numHeaders]ckafka.Header
	scratch []byte
	// topics maps a WAL topic to its destination name, shared so that
	// producing does not allocate one per record.
	topics map[string]*string
	// opaques holds the batch positions already boxed as interface values,
	// so that setting Message.Opaque does not allocate.
	opaques []any
}

func newEncoder(b message.Builder) *encoder {
	e := &encoder{builder: b, scratch: make([]byte, 0, 64), topics: map[string]*string{}}
	keys := [numHeaders]string{
		message.KeyDeviceClientVersion, message.KeyReceivedAt, message.KeyTimestamp, message.KeyTxID,
		message.KeyTxType, message.KeyVersion, message.KeyVIN, message.KeyRecordID,
	}
	for i, k := range keys {
		e.headers[i].Key = k
	}
	e.msg.Headers = e.headers[:]
	e.msg.TopicPartition.Partition = ckafka.PartitionAny
	return e
}

// zeroValue is the constant value of the timestamp and version headers.
var zeroValue = []byte("0")

// empty is the value of an empty header or key: empty, not null, as
// converting an empty string to []byte gives.
var empty = []byte{}

// encode fills the reused message for rec at batch position i and returns
// it; it is valid until the next call. It fails only as Builder.Build does.
func (e *encoder) encode(rec datastore.Record, i int) (*ckafka.Message, error) {
	value, err := e.builder.Value(rec)
	if err != nil {
		return nil, err
	}
	w := rec.WAL
	e.scratch = strconv.AppendInt(e.scratch[:0], w.GetReceivedAtMs(), 10)
	n := len(e.scratch)
	e.scratch = strconv.AppendInt(e.scratch, int64(rec.Partition), 10)
	e.scratch = append(e.scratch, '-')
	e.scratch = strconv.AppendUint(e.scratch, rec.Index, 10)

	h := &e.headers
	h[0].Value = view(w.GetDeviceClientVersion())
	h[1].Value = e.scratch[:n:n]
	h[2].Value = zeroValue
	h[3].Value = nonNil(w.GetTxid())
	h[4].Value = view(w.GetTopic())
	h[5].Value = zeroValue
	h[6].Value = view(w.GetVin())
	h[7].Value = e.scratch[n:]

	e.msg.TopicPartition.Topic = e.topic(w.GetTopic())
	e.msg.Key = view(w.GetVin())
	e.msg.Value = value
	e.msg.Opaque = e.opaque(i)
	return &e.msg, nil
}

// topic returns the shared destination name for a WAL topic.
func (e *encoder) topic(walTopic string) *string {
	if p, ok := e.topics[walTopic]; ok {
		return p
	}
	name := e.builder.Destination(walTopic)
	e.topics[walTopic] = &name
	return &name
}

// opaque returns i as an interface value, boxed once per position.
func (e *encoder) opaque(i int) any {
	for len(e.opaques) <= i {
		e.opaques = append(e.opaques, len(e.opaques))
	}
	return e.opaques[i]
}

// view returns the bytes of s without copying them; they must not be
// modified. An empty s gives an empty, non-nil slice.
func view(s string) []byte {
	if s == "" {
		return empty
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// nonNil returns b, or an empty non-nil slice for a nil one.
func nonNil(b []byte) []byte {
	if b == nil {
		return empty
	}
	return b
}
