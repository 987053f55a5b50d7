package record

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// The fast path normalizes a payload in one pass over its wire bytes, without
// building messages. It only takes payloads that are already in the form
// proto.MarshalOptions{Deterministic: true} writes ("canonical"): known
// fields in number order, then unknown fields; minimal varints; no zero
// scalar without presence; no repeated singular field, oneof or packed run;
// map entries as key then value, keys ascending; valid UTF-8 in strings.
// For such a payload, decoding, transforming and re-encoding changes nothing
// but the vin and the transformed values, so the fast path copies the bytes
// and rewrites only those. Anything else (including every invalid payload)
// is left to the reflective path, which stays the definition of the output:
// FuzzNormalizeMatchesReflect checks that both give the same bytes and the
// same outcome.
//
// The transforms' targets: the vin field of every topic, Payload.data
// (Location and scientific-notation values) and VehicleAlerts.alerts
// (started_at and ended_at in milliseconds).

// topicCodec is the fast path of one topic.
type topicCodec struct {
	msg     *message
	vinNum  protowire.Number
	listNum protowire.Number // the repeated field whose elements rewrite transforms, 0 for none
	rewrite rewriteKind
}

// rewriteKind selects the transform of the elements of topicCodec.listNum
// (a switch rather than a func field keeps rewriteState on the stack).
type rewriteKind uint8

const (
	rewriteNone rewriteKind = iota
	rewriteDatums
	rewriteAlerts
)

// rewriteState is what the transforms of one payload carry from one element
// to the next.
type rewriteState struct {
	locationSeen bool // the first Location datum has been looked at
}

var (
	datumMsg, alertMsg     *message
	codecV, codecAlerts    topicCodec
	codecErrors, codecConn topicCodec
)

// The field numbers the transforms read and write.
const (
	datumKeyNum      protowire.Number = 1
	datumValueNum    protowire.Number = 2
	valueStringNum   protowire.Number = 1
	valueLocationNum protowire.Number = 7
	locationLatNum   protowire.Number = 1
	locationLonNum   protowire.Number = 2
	alertStartedNum  protowire.Number = 3
	alertEndedNum    protowire.Number = 4
	timestampSecNum  protowire.Number = 1
	timestampNanoNum protowire.Number = 2
)

func init() {
	built := make(map[protoreflect.FullName]*message)
	msgOf := func(m interface{ ProtoReflect() protoreflect.Message }) (*message, protoreflect.MessageDescriptor) {
		md := m.ProtoReflect().Descriptor()
		return newMessage(md, built), md
	}
	vinOf := func(md protoreflect.MessageDescriptor) protowire.Number {
		return md.Fields().ByName("vin").Number()
	}
	datumMsg, _ = msgOf(&vehiclepb.Datum{})
	alertMsg, _ = msgOf(&vehiclepb.VehicleAlert{})
	m, md := msgOf(&vehiclepb.Payload{})
	codecV = topicCodec{msg: m, vinNum: vinOf(md), listNum: md.Fields().ByName("data").Number(), rewrite: rewriteDatums}
	m, md = msgOf(&vehiclepb.VehicleAlerts{})
	codecAlerts = topicCodec{msg: m, vinNum: vinOf(md), listNum: md.Fields().ByName("alerts").Number(), rewrite: rewriteAlerts}
	m, md = msgOf(&vehiclepb.VehicleErrors{})
	codecErrors = topicCodec{msg: m, vinNum: vinOf(md)}
	m, md = msgOf(&vehiclepb.VehicleConnectivity{})
	codecConn = topicCodec{msg: m, vinNum: vinOf(md)}
}

// codecFor returns the fast path of a known topic.
func codecFor(topic string) (*topicCodec, bool) {
	switch topic {
	case TopicV:
		return &codecV, true
	case TopicAlerts:
		return &codecAlerts, true
	case TopicErrors:
		return &codecErrors, true
	case TopicConnectivity:
		return &codecConn, true
	default:
		return nil, false
	}
}

// fastNormalize returns what Normalize returns for a payload of a known
// topic, or false when the payload needs the reflective path.
func fastNormalize(topic string, payload []byte, vin string) ([]byte, bool) {
	c, ok := codecFor(topic)
	if !ok || !utf8.ValidString(vin) {
		return nil, false
	}
	// Transforms change the size by a few bytes at most in common payloads.
	dst := make([]byte, 0, len(payload)+len(vin)+16)
	return c.appendNormalized(dst, payload, vin)
}

// appendNormalized appends the normalized payload b to dst.
func (c *topicCodec) appendNormalized(dst, b []byte, vin string) ([]byte, bool) {
	var s scan
	var st rewriteState
	vinDone := false
	for len(b) > 0 {
		if num, typ, n := protowire.ConsumeTag(b); n > 0 && num == c.vinNum {
			// The vehicle's vin is replaced wherever it is: only its validity
			// matters.
			if typ != protowire.BytesType {
				return dst, false
			}
			v, m := protowire.ConsumeBytes(b[n:])
			if m < 0 || !utf8.Valid(v) {
				return dst, false
			}
			b = b[n+m:]
			continue
		}
		num, typ, f, tagLen, ok := s.tag(c.msg, b)
		if !ok {
			return dst, false
		}
		if !vinDone && (f == nil || num > c.vinNum) {
			dst, vinDone = appendVIN(dst, c.vinNum, vin), true
		}
		var n int
		switch {
		case f == nil:
			if n = protowire.ConsumeFieldValue(num, typ, b[tagLen:]); n < 0 {
				return dst, false
			}
			dst = append(dst, b[:tagLen+n]...)
		case num == c.listNum && c.rewrite == rewriteDatums:
			if dst, n, ok = rewriteDatum(dst, b[:tagLen], b[tagLen:], &st); !ok {
				return dst, false
			}
		case num == c.listNum && c.rewrite == rewriteAlerts:
			if dst, n, ok = rewriteAlert(dst, b[:tagLen], b[tagLen:]); !ok {
				return dst, false
			}
		default:
			if n, ok = s.value(f, num, b[tagLen:]); !ok {
				return dst, false
			}
			dst = append(dst, b[:tagLen+n]...)
		}
		b = b[tagLen+n:]
	}
	if !vinDone {
		dst = appendVIN(dst, c.vinNum, vin)
	}
	return dst, true
}

// appendVIN appends the vin field, which proto3 omits when empty.
func appendVIN(dst []byte, num protowire.Number, vin string) []byte {
	if vin == "" {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendString(dst, vin)
}

// scan checks the fields of one message, in order, for canonical form.
type scan struct {
	last    protowire.Number
	oneofs  uint64 // bit i-1: oneof i has a member
	unknown bool   // an unknown field was seen: only unknown fields may follow
	mapNum  protowire.Number
	mapKey  []byte // the last key of map field mapNum
}

// tag reads the tag at the start of b and checks that it is minimal and in
// canonical order. f is nil for a field the schema does not know.
func (s *scan) tag(m *message, b []byte) (num protowire.Number, typ protowire.Type, f *field, tagLen int, ok bool) {
	num, typ, tagLen = protowire.ConsumeTag(b)
	if tagLen < 0 || num > protowire.MaxValidNumber || tagLen != protowire.SizeTag(num) || typ == protowire.EndGroupType {
		return 0, 0, nil, 0, false
	}
	f = m.lookup(num)
	if f == nil {
		s.unknown = true
		return num, typ, nil, tagLen, true
	}
	// A known number with another wire type is kept as an unknown field by
	// proto.Unmarshal, so it moves: not canonical.
	if f.kind == kindUnsupported || typ != f.wireType || s.unknown {
		return 0, 0, nil, 0, false
	}
	if num < s.last || (num == s.last && !f.list) {
		return 0, 0, nil, 0, false
	}
	if f.oneof != 0 {
		bit := uint64(1) << (f.oneof - 1)
		if f.oneof > 64 || s.oneofs&bit != 0 {
			return 0, 0, nil, 0, false
		}
		s.oneofs |= bit
	}
	s.last = num
	return num, typ, f, tagLen, true
}

// value checks the value of field f (number num) at the start of b and
// returns its length.
func (s *scan) value(f *field, num protowire.Number, b []byte) (int, bool) {
	if f.packed {
		run, n := consumeBytes(b)
		if n < 0 || len(run) == 0 {
			return 0, false
		}
		for len(run) > 0 {
			v, m := consumeVarint(run)
			if m < 0 || !isInt32(v) {
				return 0, false
			}
			run = run[m:]
		}
		return n, true
	}
	switch f.kind {
	case kindBool:
		v, n := consumeVarint(b)
		return n, n > 0 && (v == 1 || (v == 0 && f.presence))
	case kindInt32:
		v, n := consumeVarint(b)
		return n, n > 0 && isInt32(v) && (v != 0 || f.presence)
	case kindInt64:
		v, n := consumeVarint(b)
		return n, n > 0 && (v != 0 || f.presence)
	case kindFloat:
		return 4, len(b) >= 4 && (binary.LittleEndian.Uint32(b) != 0 || f.presence)
	case kindDouble:
		return 8, len(b) >= 8 && (binary.LittleEndian.Uint64(b) != 0 || f.presence)
	case kindString:
		v, n := consumeBytes(b)
		return n, n > 0 && utf8.Valid(v) && (len(v) > 0 || f.presence || f.list)
	case kindMessage:
		v, n := consumeBytes(b)
		return n, n > 0 && checkMessage(f.msg, v)
	case kindStringMap:
		v, n := consumeBytes(b)
		if n < 0 {
			return 0, false
		}
		key, ok := checkMapEntry(v)
		if !ok || (s.mapNum == num && bytes.Compare(key, s.mapKey) <= 0) {
			return 0, false
		}
		s.mapNum, s.mapKey = num, key
		return n, true
	default:
		return 0, false
	}
}

// checkMessage reports whether b is a canonical message of type m.
func checkMessage(m *message, b []byte) bool {
	return checkSpans(m, b, nil)
}

// span is where a field (tag included) lies in its message's bytes.
type span struct{ start, end int }

// present reports whether the field was found.
func (s span) present() bool { return s.end > 0 }

// checkSpans is checkMessage that also records, for each field number below
// len(spans), where its (last) occurrence lies in b.
func checkSpans(m *message, b []byte, spans []span) bool {
	var s scan
	for i := 0; i < len(b); {
		num, typ, f, tagLen, ok := s.tag(m, b[i:])
		if !ok {
			return false
		}
		var n int
		if f == nil {
			n = protowire.ConsumeFieldValue(num, typ, b[i+tagLen:])
			ok = n >= 0
		} else {
			n, ok = s.value(f, num, b[i+tagLen:])
		}
		if !ok {
			return false
		}
		if int(num) < len(spans) {
			spans[num] = span{i, i + tagLen + n}
		}
		i += tagLen + n
	}
	return true
}

// checkMapEntry reports whether b is a map<string, string> entry as the
// marshaller writes it (key, then value, both always present) and returns
// its key.
func checkMapEntry(b []byte) ([]byte, bool) {
	var key []byte
	for num := protowire.Number(1); num <= 2; num++ {
		n, typ, tagLen := protowire.ConsumeTag(b)
		if tagLen != 1 || n != num || typ != protowire.BytesType {
			return nil, false
		}
		v, m := consumeBytes(b[tagLen:])
		if m < 0 || !utf8.Valid(v) {
			return nil, false
		}
		if num == 1 {
			key = v
		}
		b = b[tagLen+m:]
	}
	return key, len(b) == 0
}

// consumeVarint is protowire.ConsumeVarint for minimal encodings only.
func consumeVarint(b []byte) (uint64, int) {
	v, n := protowire.ConsumeVarint(b)
	if n < 0 || n != protowire.SizeVarint(v) {
		return 0, -1
	}
	return v, n
}

// consumeBytes is protowire.ConsumeBytes for minimal length prefixes only.
func consumeBytes(b []byte) ([]byte, int) {
	l, n := consumeVarint(b)
	if n < 0 || l > uint64(len(b)-n) {
		return nil, -1
	}
	return b[n : n+int(l)], n + int(l)
}

// isInt32 reports whether v is how an int32 (or enum) value encodes: proto
// decoding truncates other varints to 32 bits.
func isInt32(v uint64) bool {
	return uint64(int64(int32(v))) == v
}

// fields iterates over the fields of a canonical message, which cannot fail
// to parse. yield gets the number, the start of the tag and the end of the
// field in b.
func fields(b []byte, yield func(num protowire.Number, start, end int)) {
	for i := 0; i < len(b); {
		num, typ, tagLen := protowire.ConsumeTag(b[i:])
		n := protowire.ConsumeFieldValue(num, typ, b[i+tagLen:])
		yield(num, i, i+tagLen+n)
		i += tagLen + n
	}
}

// rewriteDatum appends the Payload.data element at the start of b (tag is
// its tag) with the Location and scientific-notation transforms applied.
func rewriteDatum(dst, tag, b []byte, st *rewriteState) ([]byte, int, bool) {
	body, n := consumeBytes(b)
	var spans [datumValueNum + 1]span
	if n < 0 || !checkSpans(datumMsg, body, spans[:]) {
		return dst, 0, false
	}
	var key uint64
	if k := spans[datumKeyNum]; k.present() {
		key, _ = protowire.ConsumeVarint(body[k.start+protowire.SizeTag(datumKeyNum) : k.end])
	}
	valStart, valEnd := spans[datumValueNum].start, spans[datumValueNum].end
	var s []byte
	if spans[datumValueNum].present() {
		val, _ := protowire.ConsumeBytes(body[valStart+protowire.SizeTag(datumValueNum) : valEnd])
		s = stringValue(val)
	}
	var scratch [64]byte
	var newVal []byte
	if int32(key) == int32(vehiclepb.Field_Location) && !st.locationSeen {
		st.locationSeen = true
		if len(s) > 0 {
			if lat, lon, ok := parseLocationFast(string(s)); ok {
				newVal = appendLocationValue(scratch[:0], lat, lon)
			} else if loc, err := ParseLocation(string(s)); err == nil {
				newVal = appendLocationValue(scratch[:0], loc.GetLatitude(), loc.GetLongitude())
			}
		}
	}
	if newVal == nil && isScientific(s) {
		if f, err := strconv.ParseFloat(string(s), 32); err == nil {
			text := strconv.AppendFloat(scratch[32:32], f, 'f', 5, 64)
			newVal = protowire.AppendTag(scratch[:0:32], valueStringNum, protowire.BytesType)
			newVal = protowire.AppendBytes(newVal, text)
		}
	}
	dst = append(dst, tag...)
	if newVal == nil {
		return append(dst, b[:n]...), n, true
	}
	valField := protowire.SizeTag(datumValueNum) + protowire.SizeBytes(len(newVal))
	dst = protowire.AppendVarint(dst, uint64(valStart+valField+len(body)-valEnd))
	dst = append(dst, body[:valStart]...)
	dst = protowire.AppendTag(dst, datumValueNum, protowire.BytesType)
	dst = protowire.AppendBytes(dst, newVal)
	return append(dst, body[valEnd:]...), n, true
}

// stringValue returns the string_value of a canonical Value, or nil.
func stringValue(val []byte) []byte {
	num, typ, tagLen := protowire.ConsumeTag(val)
	if tagLen < 0 || num != valueStringNum || typ != protowire.BytesType {
		return nil
	}
	s, _ := protowire.ConsumeBytes(val[tagLen:])
	return s
}

// appendLocationValue appends a Value holding a LocationValue, as the
// marshaller writes it.
func appendLocationValue(dst []byte, lat, lon float64) []byte {
	var body [2 * (1 + 8)]byte
	lv := appendDouble(body[:0], locationLatNum, lat)
	lv = appendDouble(lv, locationLonNum, lon)
	dst = protowire.AppendTag(dst, valueLocationNum, protowire.BytesType)
	return protowire.AppendBytes(dst, lv)
}

// appendDouble appends a proto3 double field, omitted when +0.
func appendDouble(dst []byte, num protowire.Number, v float64) []byte {
	bits := math.Float64bits(v)
	if bits == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(dst, bits)
}

// rewriteAlert appends the VehicleAlerts.alerts element at the start of b
// (tag is its tag) with millisecond started_at and ended_at converted.
func rewriteAlert(dst, tag, b []byte) ([]byte, int, bool) {
	body, n := consumeBytes(b)
	var spans [alertEndedNum + 1]span
	if n < 0 || !checkSpans(alertMsg, body, spans[:]) {
		return dst, 0, false
	}
	convert := false
	for _, num := range [...]protowire.Number{alertStartedNum, alertEndedNum} {
		if ts := spans[num]; ts.present() {
			convert = convert || timestampSeconds(body[ts.start+protowire.SizeTag(num):ts.end]) >= MillisecondSecondsThreshold
		}
	}
	dst = append(dst, tag...)
	if !convert {
		return append(dst, b[:n]...), n, true
	}
	// Rare: build the element aside to know its length.
	out := make([]byte, 0, len(body)+8)
	fields(body, func(num protowire.Number, start, end int) {
		field := body[start:end]
		if num == alertStartedNum || num == alertEndedNum {
			if sec := timestampSeconds(field[protowire.SizeTag(num):]); sec >= MillisecondSecondsThreshold {
				ts := timestamppb.New(time.UnixMilli(sec))
				var tb [2 * (1 + binary.MaxVarintLen64)]byte
				t := tb[:0]
				if ts.GetSeconds() != 0 {
					t = protowire.AppendTag(t, timestampSecNum, protowire.VarintType)
					t = protowire.AppendVarint(t, uint64(ts.GetSeconds()))
				}
				if ts.GetNanos() != 0 {
					t = protowire.AppendTag(t, timestampNanoNum, protowire.VarintType)
					t = protowire.AppendVarint(t, uint64(int64(ts.GetNanos())))
				}
				out = protowire.AppendTag(out, num, protowire.BytesType)
				out = protowire.AppendBytes(out, t)
				return
			}
		}
		out = append(out, field...)
	})
	dst = protowire.AppendVarint(dst, uint64(len(out)))
	return append(dst, out...), n, true
}

// timestampSeconds returns the seconds of the canonical Timestamp whose
// length prefix starts b.
func timestampSeconds(b []byte) int64 {
	ts, _ := protowire.ConsumeBytes(b)
	num, typ, tagLen := protowire.ConsumeTag(ts)
	if tagLen < 0 || num != timestampSecNum || typ != protowire.VarintType {
		return 0
	}
	v, _ := protowire.ConsumeVarint(ts[tagLen:])
	return int64(v)
}
