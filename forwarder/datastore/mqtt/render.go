package mqtt

import (
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore/message"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// publication is one MQTT message a record turns into.
type publication struct {
	topic   string
	payload []byte
}

// publications returns the messages of one decoded record, in a stable
// order: V datums in payload order (the last datum of a field wins, as the
// reference keeps them in a map), alert current states then histories in
// order of first appearance, errors in order.
func publications(base, vin string, m proto.Message) ([]publication, error) {
	var items []item
	switch p := m.(type) {
	case *vehiclepb.Payload:
		items = vehicleItems(p)
	case *vehiclepb.VehicleAlerts:
		items = alertItems(p)
	case *vehiclepb.VehicleErrors:
		items = errorItems(p)
	case *vehiclepb.VehicleConnectivity:
		items = []item{{"connectivity", connectivityValue(p)}}
	default:
		return nil, fmt.Errorf("no MQTT layout for %T", m)
	}
	out := make([]publication, 0, len(items))
	for _, it := range items {
		topic := base + "/" + vin + "/" + it.suffix
		b, err := json.Marshal(it.value)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", topic, err)
		}
		out = append(out, publication{topic: topic, payload: b})
	}
	return out, nil
}

// item is a topic suffix (after "<base>/<VIN>/") and its JSON value.
type item struct {
	suffix string
	value  any
}

// vehicleItems renders "v/<Field>" = the datum's value. Datums without a
// value are skipped (the reference would fail on them).
func vehicleItems(p *vehiclepb.Payload) []item {
	pos := map[string]int{}
	var out []item
	for _, d := range p.GetData() {
		if d.GetValue().GetValue() == nil {
			continue
		}
		it := item{suffix: "v/" + d.GetKey().String(), value: datumValue(d.GetValue())}
		if i, ok := pos[it.suffix]; ok {
			out[i] = it
			continue
		}
		pos[it.suffix] = len(out)
		out = append(out, it)
	}
	return out
}

// namedEnums are the Value members the reference renders with the enum's
// String() (an unknown number becomes its decimal string); other enum
// members go through its generic path, where an unknown number stays a
// number.
var namedEnums = map[protoreflect.Name]bool{
	"shift_state_value": true, "lane_assist_level_value": true, "scheduled_charging_mode_value": true,
	"sentry_mode_state_value": true, "speed_assist_level_value": true, "bms_state_value": true,
	"buckle_status_value": true, "car_type_value": true, "charge_port_value": true,
	"charge_port_latch_value": true, "drive_inverter_state_value": true, "hvil_status_value": true,
	"window_state_value": true, "seat_fold_position_value": true, "tractor_air_status_value": true,
	"follow_distance_value": true, "forward_collision_sensitivity_value": true,
	"guest_mode_mobile_access_value": true, "trailer_air_status_value": true, "detailed_charge_state_value": true,
}

// datumValue renders a Value as the reference's MQTT producer does.
func datumValue(v *vehiclepb.Value) any {
	msg := v.ProtoReflect()
	fd := msg.WhichOneof(msg.Descriptor().Oneofs().ByName("value"))
	val := msg.Get(fd)
	switch fd.Kind() {
	case protoreflect.EnumKind:
		return enumValue(fd, val.Enum(), namedEnums[fd.Name()])
	case protoreflect.MessageKind:
		return messageValue(val.Message())
	case protoreflect.BoolKind:
		if fd.Name() == "invalid" {
			return nil
		}
		return val.Bool()
	case protoreflect.FloatKind:
		return float32(val.Float())
	case protoreflect.Int32Kind:
		return int32(val.Int())
	default:
		return val.Interface() // string, int64, double
	}
}

func enumValue(fd protoreflect.FieldDescriptor, n protoreflect.EnumNumber, named bool) any {
	if ev := fd.Enum().Values().ByNumber(n); ev != nil {
		return string(ev.Name())
	}
	if named {
		return fmt.Sprint(int32(n))
	}
	return int32(n)
}

func messageValue(m protoreflect.Message) any {
	switch v := m.Interface().(type) {
	case *vehiclepb.LocationValue:
		return message.LocationJSON(v)
	case *vehiclepb.Doors:
		return message.DoorsJSON(v)
	case *vehiclepb.Time:
		return message.TimeJSON(v)
	default:
		return setFields(m)
	}
}

// setFields is the reference's generic rendering of other messages (tire
// locations): the populated fields by proto name; false booleans are not
// populated and so absent.
func setFields(m protoreflect.Message) map[string]any {
	out := map[string]any{}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch fd.Kind() {
		case protoreflect.EnumKind:
			out[string(fd.Name())] = enumValue(fd, v.Enum(), false)
		case protoreflect.MessageKind:
			out[string(fd.Name())] = setFields(v.Message())
		default:
			out[string(fd.Name())] = v.Interface()
		}
		return true
	})
	return out
}

// alertItems renders, per alert name, "alerts/<name>/current" (the alert
// with the latest started_at; alerts without one cannot be current) and
// "alerts/<name>/history" (every alert of that name, in order).
func alertItems(p *vehiclepb.VehicleAlerts) []item {
	var names []string
	history := map[string][]map[string]any{}
	current := map[string]*vehiclepb.VehicleAlert{}
	for _, a := range p.GetAlerts() {
		if _, seen := history[a.GetName()]; !seen {
			names = append(names, a.GetName())
		}
		history[a.GetName()] = append(history[a.GetName()], alertValue(a))
		if a.GetStartedAt() == nil {
			continue
		}
		if cur, ok := current[a.GetName()]; !ok || a.GetStartedAt().AsTime().After(cur.GetStartedAt().AsTime()) {
			current[a.GetName()] = a
		}
	}
	var out []item
	for _, n := range names {
		if a, ok := current[n]; ok {
			out = append(out, item{"alerts/" + n + "/current", alertValue(a)})
		}
	}
	for _, n := range names {
		out = append(out, item{"alerts/" + n + "/history", history[n]})
	}
	return out
}

func alertValue(a *vehiclepb.VehicleAlert) map[string]any {
	m := map[string]any{"Audiences": nil}
	if a.GetStartedAt() != nil {
		m["StartedAt"] = a.GetStartedAt().AsTime().Format(time.RFC3339)
	}
	if a.GetEndedAt() != nil {
		m["EndedAt"] = a.GetEndedAt().AsTime().Format(time.RFC3339)
	}
	if len(a.GetAudiences()) > 0 {
		names := make([]string, len(a.GetAudiences()))
		for i, au := range a.GetAudiences() {
			names[i] = au.String()
		}
		m["Audiences"] = names
	}
	return m
}

// errorItems renders "errors/<name>" = {Body, Tags, CreatedAt} per error.
func errorItems(p *vehiclepb.VehicleErrors) []item {
	out := make([]item, 0, len(p.GetErrors()))
	for _, e := range p.GetErrors() {
		m := map[string]any{"Body": e.GetBody(), "Tags": e.GetTags()}
		if e.GetCreatedAt() != nil {
			m["CreatedAt"] = e.GetCreatedAt().AsTime().Format(time.RFC3339)
		}
		out = append(out, item{"errors/" + e.GetName(), m})
	}
	return out
}

func connectivityValue(p *vehiclepb.VehicleConnectivity) map[string]any {
	return map[string]any{
		"ConnectionId": p.GetConnectionId(),
		"Status":       p.GetStatus().String(),
		"CreatedAt":    p.GetCreatedAt().AsTime().Format(time.RFC3339),
	}
}
