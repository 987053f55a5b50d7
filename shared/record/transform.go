package record

import (
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// MillisecondSecondsThreshold is the smallest Timestamp.seconds value of an
// alert that is taken to hold milliseconds: 315576000000 s, the largest
// seconds value protojson can render (the year 11970).
const MillisecondSecondsThreshold = 315576000000

// Transform applies the reference transforms for the message's type in
// place: VIN injection for the four known types, then Location and
// scientific notation for vehiclepb.Payload and millisecond timestamps for
// vehiclepb.VehicleAlerts. Other message types are left unchanged.
func Transform(msg proto.Message, vin string) {
	switch m := msg.(type) {
	case *vehiclepb.Payload:
		m.Vin = vin
		TransformLocation(m)
		TransformScientificNotation(m)
	case *vehiclepb.VehicleAlerts:
		m.Vin = vin
		TransformAlertTimestamps(m)
	case *vehiclepb.VehicleErrors:
		m.Vin = vin
	case *vehiclepb.VehicleConnectivity:
		m.Vin = vin
	}
}

// TransformLocation converts the first datum keyed Field_Location from a
// parsable string into a LocationValue. Only the first Location datum is
// looked at, whether or not it converts.
func TransformLocation(p *vehiclepb.Payload) {
	for _, d := range p.GetData() {
		if d.GetKey() != vehiclepb.Field_Location {
			continue
		}
		if s := d.GetValue().GetStringValue(); s != "" {
			if loc, err := ParseLocation(s); err == nil {
				d.Value = &vehiclepb.Value{Value: &vehiclepb.Value_LocationValue{LocationValue: loc}}
			}
		}
		return
	}
}

// TransformScientificNotation rewrites every string value written in
// scientific notation as a fixed-point string with five decimals, after
// rounding it to float32 ("1.5e-3" → "0.00150"). Values that do not parse
// (out of float32 range) are left alone.
func TransformScientificNotation(p *vehiclepb.Payload) {
	for _, d := range p.GetData() {
		if s, ok := rewriteScientific(d.GetValue().GetStringValue()); ok {
			d.Value = &vehiclepb.Value{Value: &vehiclepb.Value_StringValue{StringValue: s}}
		}
	}
}

// rewriteScientific returns the fixed-point form of s when s is a float in
// scientific notation.
func rewriteScientific(s string) (string, bool) {
	if !isScientific(s) {
		return "", false
	}
	f, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return "", false
	}
	return strconv.FormatFloat(f, 'f', 5, 64), true
}

// TransformAlertTimestamps converts started_at and ended_at values that
// hold milliseconds in their seconds field (see MillisecondSecondsThreshold).
func TransformAlertTimestamps(a *vehiclepb.VehicleAlerts) {
	for _, alert := range a.GetAlerts() {
		alert.StartedAt = millisecondsFixed(alert.StartedAt)
		alert.EndedAt = millisecondsFixed(alert.EndedAt)
	}
}

// millisecondsFixed returns ts unchanged, or a new Timestamp for
// ts.Seconds milliseconds when ts.Seconds is too large to be seconds.
func millisecondsFixed(ts *timestamppb.Timestamp) *timestamppb.Timestamp {
	if ts == nil || ts.GetSeconds() < MillisecondSecondsThreshold {
		return ts
	}
	return timestamppb.New(time.UnixMilli(ts.GetSeconds()))
}

// isScientific reports whether s matches the reference's regular expression
// ^[+-]?(\d*\.\d+|\d+\.\d*)([eE][+-]?\d+)$: a mantissa with a decimal point
// and at least one digit, then a mandatory exponent.
func isScientific[T string | []byte](s T) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	intDigits := digits(s)
	s = s[intDigits:]
	if len(s) == 0 || s[0] != '.' {
		return false
	}
	fracDigits := digits(s[1:])
	s = s[1+fracDigits:]
	if intDigits+fracDigits == 0 || len(s) == 0 || (s[0] != 'e' && s[0] != 'E') {
		return false
	}
	s = s[1:]
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	expDigits := digits(s)
	return expDigits > 0 && expDigits == len(s)
}
