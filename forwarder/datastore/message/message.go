// Package message turns a WAL record into what the reference server would
// have dispatched for it: the destination name, the key, the value and the
// metadata (Kafka headers, Pub/Sub attributes), plus fleetrelay's
// idempotency key. Every sink that carries the record itself (Kafka,
// Kinesis, Pub/Sub) builds its messages here so that they format alike.
package message

import (
	"fmt"
	"strconv"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// Metadata keys, exactly the reference's (telemetry/record.go Metadata).
const (
	KeyVIN                 = "vin"
	KeyReceivedAt          = "receivedat"
	KeyTimestamp           = "timestamp"
	KeyTxID                = "txid"
	KeyTxType              = "txtype"
	KeyVersion             = "version"
	KeyDeviceClientVersion = "device_client_version"
)

// KeyRecordID is fleetrelay's addition to the metadata: the record's
// idempotency key ("<partition>-<index>" of its WAL position, see
// datastore.Record.ID). The same record always carries the same value, so a
// consumer that remembers the ids it has processed can drop the duplicates
// that at-least-once delivery produces.
const KeyRecordID = "record_id"

// Header is one metadata entry.
type Header struct {
	Key   string
	Value string
}

// Message is one record as a datastore receives it.
type Message struct {
	// Destination is the topic or stream name, "<namespace>_<topic>".
	Destination string
	// Key is the partition or ordering key: the VIN.
	Key string
	// Value is the protobuf payload, or its protojson with
	// transmit_decoded_records.
	Value []byte
	// Headers is the reference's metadata sorted by key, then record_id.
	Headers []Header
}

// Builder builds messages for one configuration.
type Builder struct {
	namespace string
	decoded   bool
}

// NewBuilder returns a Builder for the namespace and value format in set.
func NewBuilder(set datastore.Settings) Builder {
	return Builder{namespace: set.Namespace, decoded: set.TransmitDecodedRecords}
}

// Build returns the message for rec. It fails only when the record must be
// converted to protojson and its payload does not decode, which retrying
// cannot fix: the error is Permanent.
func (b Builder) Build(rec datastore.Record) (Message, error) {
	value, err := b.Value(rec)
	if err != nil {
		return Message{}, err
	}
	w := rec.WAL
	return Message{
		Destination: b.Destination(w.GetTopic()),
		Key:         w.GetVin(),
		Value:       value,
		Headers:     Headers(rec),
	}, nil
}

// Value returns the value Build puts in rec's message: the payload itself,
// or its protojson with transmit_decoded_records (the only case that
// allocates, and the only one that can fail, permanently).
func (b Builder) Value(rec datastore.Record) ([]byte, error) {
	w := rec.WAL
	value := w.GetPayload()
	if !b.decoded {
		return value, nil
	}
	js, err := DecodedJSON(w.GetTopic(), value)
	if err != nil {
		return nil, datastore.Permanent(fmt.Errorf("record %s: %w", rec.ID(), err))
	}
	return js, nil
}

// Destination returns the destination name Build uses for records of the
// given WAL topic.
func (b Builder) Destination(topic string) string { return DestinationName(b.namespace, topic) }

// DestinationName is the reference's BuildTopicName: namespace + "_" +
// topic, also when the namespace is empty.
func DestinationName(namespace, topic string) string { return namespace + "_" + topic }

// Metadata returns the reference's metadata map for rec: vin, receivedat,
// timestamp ("0"), txid, txtype, version ("0") and device_client_version.
func Metadata(rec datastore.Record) map[string]string {
	w := rec.WAL
	return map[string]string{
		KeyVIN:                 w.GetVin(),
		KeyReceivedAt:          strconv.FormatInt(w.GetReceivedAtMs(), 10),
		KeyTimestamp:           "0",
		KeyTxID:                string(w.GetTxid()),
		KeyTxType:              w.GetTopic(),
		KeyVersion:             "0",
		KeyDeviceClientVersion: w.GetDeviceClientVersion(),
	}
}

// Attributes returns Metadata plus record_id, for datastores that take a
// map (Pub/Sub attributes).
func Attributes(rec datastore.Record) map[string]string {
	m := Metadata(rec)
	m[KeyRecordID] = rec.ID()
	return m
}

// Headers returns Metadata sorted by key, followed by record_id. It is
// built directly in that order: it runs once per record on the hot path.
func Headers(rec datastore.Record) []Header {
	w := rec.WAL
	return []Header{
		{KeyDeviceClientVersion, w.GetDeviceClientVersion()},
		{KeyReceivedAt, strconv.FormatInt(w.GetReceivedAtMs(), 10)},
		{KeyTimestamp, "0"},
		{KeyTxID, string(w.GetTxid())},
		{KeyTxType, w.GetTopic()},
		{KeyVersion, "0"},
		{KeyVIN, w.GetVin()},
		{KeyRecordID, rec.ID()},
	}
}
