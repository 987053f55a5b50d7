package logger

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore/message"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// errNoRendering marks a value member the reference's logger does not
// render (charging_value): the datum is left out of the line.
var errNoRendering = errors.New("value type not rendered by the logger")

// typeNames maps each Value oneof member to the type name the reference
// writes with `verbose`. charging_value is absent on purpose: the reference
// drops it (see the package comment).
var typeNames = map[protoreflect.Name]string{
	"string_value": "stringValue", "int_value": "intValue", "long_value": "longValue",
	"float_value": "floatValue", "double_value": "doubleValue", "boolean_value": "booleanValue",
	"location_value": "locationValue", "shift_state_value": "shiftStateValue", "invalid": "invalid",
	"lane_assist_level_value": "laneAssistLevel", "scheduled_charging_mode_value": "scheduledChargingMode",
	"sentry_mode_state_value": "sentryModeState", "speed_assist_level_value": "speedAssistLevel",
	"bms_state_value": "bmsState", "buckle_status_value": "buckleStatus", "car_type_value": "carType",
	"charge_port_value": "chargePort", "charge_port_latch_value": "chargePortLatch", "door_value": "doorValue",
	"drive_inverter_state_value": "driveInverterState", "hvil_status_value": "hvilStatus",
	"window_state_value": "windowState", "seat_fold_position_value": "seatFoldPosition",
	"tractor_air_status_value": "tractorAirStatus", "follow_distance_value": "followDistance",
	"forward_collision_sensitivity_value": "forwardCollisionSensitivity",
	"guest_mode_mobile_access_value":      "guestModeMobileAccess", "trailer_air_status_value": "trailerAirStatus",
	"time_value": "time", "detailed_charge_state_value": "detailedChargeState",
	"hvac_auto_mode_value": "hvacAutoMode", "cabin_overheat_protection_mode_value": "cabinOverheatProtectionMode",
	"cabin_overheat_protection_temperature_limit_value": "cabinOverheatProtectionTemperatureLimit",
	"defrost_mode_value": "defrostMode", "climate_keeper_mode_value": "climateKeeperMode",
	"hvac_power_value": "hvacPower", "tire_location_value": "tireLocation",
	"fast_charger_value": "fastChargerType", "cable_type_value": "chargingCableType",
	"tonneau_tent_mode_value": "tonneauTentMode", "tonneau_position_value": "tonneauPosition",
	"powershare_state_value": "powershareStatus", "powershare_stop_reason_value": "powershareStopReason",
	"powershare_type_value": "powershareType", "display_state_value": "displayState",
	"pressure_unit_value": "pressureUnit", "temperature_unit_value": "temperatureUnit",
	"charge_unit_preference_value": "chargeUnit", "distance_unit_value": "distanceUnit",
	"sunroof_installed_state_value": "sunroofInstalledState", "turn_signal_state_value": "turnSignalState",
	"media_status_value": "mediaStatus",
}

// renderer turns a decoded record into the reference logger's `data`.
type renderer struct {
	verbose bool
}

// data returns the `data` value of the log line for m.
func (r renderer) data(m proto.Message, vin string) (any, error) {
	switch p := m.(type) {
	case *vehiclepb.Payload:
		return r.payload(p, vin), nil
	case *vehiclepb.VehicleAlerts:
		return alerts(p), nil
	case *vehiclepb.VehicleErrors:
		return vehicleErrors(p), nil
	case *vehiclepb.VehicleConnectivity:
		return connectivity(p), nil
	default:
		return nil, fmt.Errorf("unknown record type %T", m)
	}
}

// payload renders a V record: Vin, CreatedAt (RFC 3339, whole seconds),
// IsResend and one key per datum named after its Field. Datums without a
// value and charging_value datums are left out; a Field number the schema
// does not know is written under the key "" as the reference does.
func (r renderer) payload(p *vehiclepb.Payload, vin string) map[string]any {
	out := make(map[string]any, len(p.GetData())+3)
	out["Vin"] = p.GetVin()
	out["CreatedAt"] = p.GetCreatedAt().AsTime().Format(time.RFC3339)
	out["IsResend"] = p.GetIsResend()
	for _, d := range p.GetData() {
		if d.GetValue().GetValue() == nil {
			continue
		}
		v, err := r.value(d.GetValue(), vin)
		if err != nil {
			continue
		}
		out[vehiclepb.Field_name[int32(d.GetKey())]] = v
	}
	return out
}

// value renders one Value, wrapped as {"<typeName>": v} when verbose.
func (r renderer) value(v *vehiclepb.Value, vin string) (any, error) {
	msg := v.ProtoReflect()
	fd := msg.WhichOneof(msg.Descriptor().Oneofs().ByName("value"))
	typeName, ok := typeNames[fd.Name()]
	if !ok {
		return nil, errNoRendering
	}
	out := r.plain(fd, msg.Get(fd), vin)
	if r.verbose {
		return map[string]any{typeName: out}, nil
	}
	return out, nil
}

func (r renderer) plain(fd protoreflect.FieldDescriptor, v protoreflect.Value, vin string) any {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		return enumName(fd, v.Enum())
	case protoreflect.MessageKind:
		return submessage(fd.Name(), v.Message().Interface(), vin)
	case protoreflect.FloatKind:
		return float32(v.Float())
	case protoreflect.Int32Kind:
		return int32(v.Int())
	case protoreflect.BoolKind:
		if fd.Name() == "invalid" && !r.verbose {
			return "<invalid>"
		}
		return v.Bool()
	default:
		return v.Interface() // string, int64, double
	}
}

// enumName is the generated String() of the enum: its name, or its number
// in decimal when the schema does not know it.
func enumName(fd protoreflect.FieldDescriptor, n protoreflect.EnumNumber) string {
	if ev := fd.Enum().Values().ByNumber(n); ev != nil {
		return string(ev.Name())
	}
	return fmt.Sprint(int32(n))
}

func submessage(field protoreflect.Name, m proto.Message, vin string) any {
	switch v := m.(type) {
	case *vehiclepb.LocationValue:
		return message.LocationJSON(v)
	case *vehiclepb.Doors:
		return message.DoorsJSON(v)
	case *vehiclepb.Time:
		return message.TimeJSON(v)
	case *vehiclepb.TireLocation:
		return tires(v, vin)
	default:
		return fmt.Sprintf("unrendered %s", field)
	}
}

// tires renders a TireLocation: 4 wheels, or the Semi's 10 positions when
// the VIN's model letter (4th character) is T.
func tires(v *vehiclepb.TireLocation, vin string) map[string]bool {
	if len(vin) > 3 && vin[3] == 'T' {
		return map[string]bool{
			"FrontLeft": v.GetFrontLeft(), "FrontRight": v.GetFrontRight(),
			"SemiMiddleAxleLeft": v.GetRearLeft(), "SemiMiddleAxleRight": v.GetRearRight(),
			"SemiMiddleAxleLeft2": v.GetSemiMiddleAxleLeft_2(), "SemiMiddleAxleRight2": v.GetSemiMiddleAxleRight_2(),
			"SemiRearAxleLeft": v.GetSemiRearAxleLeft(), "SemiRearAxleRight": v.GetSemiRearAxleRight(),
			"SemiRearAxleLeft2": v.GetSemiRearAxleLeft_2(), "SemiRearAxleRight2": v.GetSemiRearAxleRight_2(),
		}
	}
	return map[string]bool{
		"FrontLeft": v.GetFrontLeft(), "FrontRight": v.GetFrontRight(),
		"RearLeft": v.GetRearLeft(), "RearRight": v.GetRearRight(),
	}
}

// alerts renders VehicleAlerts as an array of {Name, StartedAt, EndedAt,
// Audiences}; times are Unix seconds and present only when set, Audiences
// is null when empty.
func alerts(p *vehiclepb.VehicleAlerts) []map[string]any {
	out := make([]map[string]any, len(p.GetAlerts()))
	for i, a := range p.GetAlerts() {
		m := map[string]any{"Name": a.GetName(), "Audiences": nil}
		if a.GetStartedAt() != nil {
			m["StartedAt"] = a.GetStartedAt().AsTime().Unix()
		}
		if a.GetEndedAt() != nil {
			m["EndedAt"] = a.GetEndedAt().AsTime().Unix()
		}
		if len(a.GetAudiences()) > 0 {
			names := make([]string, len(a.GetAudiences()))
			for j, au := range a.GetAudiences() {
				names[j] = au.String()
			}
			m["Audiences"] = names
		}
		out[i] = m
	}
	return out
}

// vehicleErrors renders VehicleErrors as an array of {Name, Body, Tags,
// CreatedAt}; CreatedAt (Unix seconds) only when set.
func vehicleErrors(p *vehiclepb.VehicleErrors) []map[string]any {
	out := make([]map[string]any, len(p.GetErrors()))
	for i, e := range p.GetErrors() {
		m := map[string]any{"Name": e.GetName(), "Body": e.GetBody(), "Tags": e.GetTags()}
		if e.GetCreatedAt() != nil {
			m["CreatedAt"] = e.GetCreatedAt().AsTime().Unix()
		}
		out[i] = m
	}
	return out
}

func connectivity(p *vehiclepb.VehicleConnectivity) map[string]any {
	return map[string]any{
		"Vin":              p.GetVin(),
		"ConnectionID":     p.GetConnectionId(),
		"NetworkInterface": p.GetNetworkInterface(),
		"Status":           p.GetStatus().String(),
		"CreatedAt":        p.GetCreatedAt().AsTime().Unix(),
	}
}
