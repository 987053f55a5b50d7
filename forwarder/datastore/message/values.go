package message

import (
	"fmt"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// The renderings below are the reference's JSON shapes for the vehicle
// value messages, shared by the sinks that render values as JSON (the
// logger and MQTT).

// LocationJSON renders a location as {"latitude", "longitude"}.
func LocationJSON(v *vehiclepb.LocationValue) map[string]float64 {
	return map[string]float64{"latitude": v.GetLatitude(), "longitude": v.GetLongitude()}
}

// DoorsJSON renders the six doors as a map of booleans keyed by the
// reference's door names.
func DoorsJSON(v *vehiclepb.Doors) map[string]bool {
	return map[string]bool{
		"DriverFront": v.GetDriverFront(), "PassengerFront": v.GetPassengerFront(),
		"DriverRear": v.GetDriverRear(), "PassengerRear": v.GetPassengerRear(),
		"TrunkFront": v.GetTrunkFront(), "TrunkRear": v.GetTrunkRear(),
	}
}

// TimeJSON renders a time of day as "HH:MM:SS".
func TimeJSON(v *vehiclepb.Time) string {
	return fmt.Sprintf("%02d:%02d:%02d", v.GetHour(), v.GetMinute(), v.GetSecond())
}
