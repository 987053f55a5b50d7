package vehiclesim

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// payloadEncoder writes a V Payload in protobuf wire format without
// reflection, for the value types the simulator sends; the bytes equal
// proto.Marshal's (fields in number order, proto3 zero values omitted),
// which the tests check. Reflection-based marshalling of oneof values was
// the largest CPU cost of a simulated record. Not safe for concurrent use.
type payloadEncoder struct {
	inner, value, datum []byte // scratch for nested messages, innermost first
}

// Field numbers of vehicle_data.proto (see reference/protos/vehicle_data.tsv).
const (
	payloadData, payloadCreatedAt, payloadVIN, payloadIsResend protowire.Number = 1, 2, 3, 4
	datumKey, datumValue                                       protowire.Number = 1, 2
)

// appendPayload appends p's encoding to b. It reports false, leaving b as
// it was, if p holds a value type it does not encode.
func (e *payloadEncoder) appendPayload(b []byte, p *vehiclepb.Payload) ([]byte, bool) {
	start := len(b)
	for _, d := range p.Data {
		var ok bool
		if e.value, ok = e.appendValue(e.value[:0], d.GetValue()); !ok {
			return b[:start], false
		}
		e.datum = protowire.AppendTag(e.datum[:0], datumKey, protowire.VarintType)
		e.datum = protowire.AppendVarint(e.datum, uint64(d.Key))
		e.datum = appendMessage(e.datum, datumValue, e.value)
		b = appendMessage(b, payloadData, e.datum)
	}
	if p.CreatedAt != nil {
		e.value = appendTimestamp(e.value[:0], p.CreatedAt)
		b = appendMessage(b, payloadCreatedAt, e.value)
	}
	if p.Vin != "" {
		b = protowire.AppendTag(b, payloadVIN, protowire.BytesType)
		b = protowire.AppendString(b, p.Vin)
	}
	return appendBool(b, payloadIsResend, p.IsResend), true
}

// appendValue encodes a Value message: exactly one oneof member, present
// even when zero.
func (e *payloadEncoder) appendValue(b []byte, v *vehiclepb.Value) ([]byte, bool) {
	switch w := v.GetValue().(type) {
	case *vehiclepb.Value_StringValue:
		return protowire.AppendString(protowire.AppendTag(b, 1, protowire.BytesType), w.StringValue), true
	case *vehiclepb.Value_IntValue:
		return appendVarint(b, 2, uint64(int64(w.IntValue))), true
	case *vehiclepb.Value_LongValue:
		return appendVarint(b, 3, uint64(w.LongValue)), true
	case *vehiclepb.Value_FloatValue:
		return protowire.AppendFixed32(protowire.AppendTag(b, 4, protowire.Fixed32Type), math.Float32bits(w.FloatValue)), true
	case *vehiclepb.Value_DoubleValue:
		return appendDouble(b, 5, w.DoubleValue, true), true
	case *vehiclepb.Value_BooleanValue:
		return appendVarint(b, 6, protowire.EncodeBool(w.BooleanValue)), true
	case *vehiclepb.Value_LocationValue:
		e.inner = appendDouble(appendDouble(e.inner[:0], 1, w.LocationValue.GetLatitude(), false), 2, w.LocationValue.GetLongitude(), false)
		return appendMessage(b, 7, e.inner), true
	case *vehiclepb.Value_ShiftStateValue:
		return appendVarint(b, 9, uint64(w.ShiftStateValue)), true
	case *vehiclepb.Value_SentryModeStateValue:
		return appendVarint(b, 13, uint64(w.SentryModeStateValue)), true
	case *vehiclepb.Value_DoorValue:
		e.inner = appendDoors(e.inner[:0], w.DoorValue)
		return appendMessage(b, 21, e.inner), true
	case *vehiclepb.Value_TimeValue:
		e.inner = appendTime(e.inner[:0], w.TimeValue)
		return appendMessage(b, 31, e.inner), true
	case *vehiclepb.Value_DetailedChargeStateValue:
		return appendVarint(b, 32, uint64(w.DetailedChargeStateValue)), true
	case *vehiclepb.Value_HvacPowerValue:
		return appendVarint(b, 38, uint64(w.HvacPowerValue)), true
	case *vehiclepb.Value_MediaStatusValue:
		return appendVarint(b, 53, uint64(w.MediaStatusValue)), true
	}
	return b, false
}

func appendDoors(b []byte, d *vehiclepb.Doors) []byte {
	for i, open := range []bool{d.GetDriverFront(), d.GetDriverRear(), d.GetPassengerFront(),
		d.GetPassengerRear(), d.GetTrunkFront(), d.GetTrunkRear()} {
		b = appendBool(b, protowire.Number(i+1), open)
	}
	return b
}

func appendTime(b []byte, t *vehiclepb.Time) []byte {
	for i, v := range []int32{t.GetHour(), t.GetMinute(), t.GetSecond()} {
		if v != 0 {
			b = appendVarint(b, protowire.Number(i+1), uint64(int64(v)))
		}
	}
	return b
}

func appendTimestamp(b []byte, ts *timestamppb.Timestamp) []byte {
	if ts.Seconds != 0 {
		b = appendVarint(b, 1, uint64(ts.Seconds))
	}
	if ts.Nanos != 0 {
		b = appendVarint(b, 2, uint64(int64(ts.Nanos)))
	}
	return b
}

func appendVarint(b []byte, n protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, n, protowire.VarintType), v)
}

// appendBool writes a proto3 bool field, omitted when false.
func appendBool(b []byte, n protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	return appendVarint(b, n, 1)
}

// appendDouble writes a double field; a proto3 zero is omitted unless it is
// a oneof member (always present).
func appendDouble(b []byte, n protowire.Number, v float64, always bool) []byte {
	bits := math.Float64bits(v)
	if bits == 0 && !always {
		return b
	}
	return protowire.AppendFixed64(protowire.AppendTag(b, n, protowire.Fixed64Type), bits)
}

func appendMessage(b []byte, n protowire.Number, msg []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), msg)
}
