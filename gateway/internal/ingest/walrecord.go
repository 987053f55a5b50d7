package ingest

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/record"
	"github.com/fleetrelay/fleetrelay/wal"
)

// The field numbers of walpb.Record (protos/walproto/record.proto); a test
// checks them against the generated descriptor.
const (
	recordVIN                 protowire.Number = 1
	recordTopic               protowire.Number = 2
	recordTxID                protowire.Number = 3
	recordReceivedAtMs        protowire.Number = 4
	recordDeviceClientVersion protowire.Number = 5
	recordNetworkInterface    protowire.Number = 6
	recordConnectionID        protowire.Number = 7
	recordPayload             protowire.Number = 8
	recordClientType          protowire.Number = 9
)

// walRecord is what a stored record is made of besides its payload and
// the connection's other strings.
type walRecord struct {
	vin, topic string
	txid       []byte
	receivedMs int64
}

// encode returns wal.FrameReserve bytes of room followed by the walpb.Record
// encoding of r with payload normalized for topic, exactly as proto.Marshal
// encodes the same record (fields in number order, zero values left out),
// the txid's bytes inside it and the normalized payload's length. Encoding in place costs one allocation and
// no copy of the normalized payload. Strings must be valid UTF-8.
func (r *walRecord) encode(payload []byte, conn connStrings) (buf, txid []byte, payloadLen int, err error) {
	size := wal.FrameReserve + 9*protowire.SizeVarint(uint64(protowire.MaxValidNumber)) +
		len(r.vin) + len(r.topic) + len(r.txid) + len(conn.deviceClientVersion) + len(conn.networkInterface) +
		len(conn.connectionID) + len(conn.clientType) + 8*binaryLenMax + len(payload) + len(r.vin) + payloadSlack
	buf = make([]byte, wal.FrameReserve, size)
	buf = appendStringField(buf, recordVIN, r.vin)
	buf = appendStringField(buf, recordTopic, r.topic)
	if len(r.txid) > 0 {
		buf = protowire.AppendTag(buf, recordTxID, protowire.BytesType)
		buf = protowire.AppendVarint(buf, uint64(len(r.txid)))
		start := len(buf)
		buf = append(buf, r.txid...)
		txid = buf[start:len(buf):len(buf)]
	}
	if r.receivedMs != 0 {
		buf = protowire.AppendTag(buf, recordReceivedAtMs, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(r.receivedMs))
	}
	buf = appendStringField(buf, recordDeviceClientVersion, conn.deviceClientVersion)
	buf = appendStringField(buf, recordNetworkInterface, conn.networkInterface)
	buf = appendStringField(buf, recordConnectionID, conn.connectionID)
	if buf, payloadLen, err = appendPayloadField(buf, r.topic, payload, r.vin); err != nil {
		return nil, nil, 0, err
	}
	buf = appendStringField(buf, recordClientType, conn.clientType)
	return buf, txid, payloadLen, nil
}

// binaryLenMax is the most bytes a length prefix of a WAL record field takes
// (records are far below 2^35 bytes).
const binaryLenMax = 5

// connStrings are a connection's strings made valid UTF-8.
type connStrings struct {
	deviceClientVersion, networkInterface, connectionID, clientType string
}

func validConnStrings(c *Conn) connStrings {
	return connStrings{
		deviceClientVersion: validUTF8(c.DeviceClientVersion),
		networkInterface:    validUTF8(c.NetworkInterface),
		connectionID:        validUTF8(c.ConnectionID),
		clientType:          validUTF8(c.ClientType),
	}
}

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendPayloadField appends the payload field with the payload normalized
// in place. The normalized length is known only afterwards, so room for the
// length prefix is left by estimate and the payload moved in the rare case
// the estimate had the wrong width. An empty payload is left out.
func appendPayloadField(buf []byte, topic string, payload []byte, vin string) ([]byte, int, error) {
	tagAt := len(buf)
	buf = protowire.AppendTag(buf, recordPayload, protowire.BytesType)
	lenAt := len(buf)
	width := protowire.SizeVarint(uint64(len(payload) + len(vin) + payloadSlack))
	buf = append(buf, make([]byte, width)...)
	start := len(buf)
	buf, err := record.AppendNormalize(buf, topic, payload, vin)
	if err != nil {
		return nil, 0, err
	}
	n := len(buf) - start
	if n == 0 {
		return buf[:tagAt], 0, nil
	}
	if w := protowire.SizeVarint(uint64(n)); w != width {
		if w > width {
			buf = append(buf, make([]byte, w-width)...)
		}
		copy(buf[lenAt+w:], buf[start:start+n])
		buf = buf[:lenAt+w+n]
	}
	protowire.AppendVarint(buf[lenAt:lenAt], uint64(n))
	return buf, n, nil
}

// DecodeRecord decodes the WAL record of a stored frame (ActionStore); it
// returns nil for any other result.
func (r *Result) DecodeRecord() (*walpb.Record, error) {
	if r.Frame == nil {
		return nil, nil
	}
	rec := &walpb.Record{}
	if err := proto.Unmarshal(r.Frame[wal.FrameReserve:], rec); err != nil {
		return nil, fmt.Errorf("decode WAL record: %w", err)
	}
	return rec, nil
}
