package vehiclesim

import (
	"math/rand/v2"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// signals holds the value wrappers of a vehicle's V datums, so that values
// are updated in place. Value types follow what vehicles send with
// prefer_typed: numbers as float/double/int/long, states as enums, plus
// Doors, Time, LocationValue, bool and string values.
type signals struct {
	speed                  *vehiclepb.Value_FloatValue
	location               *vehiclepb.LocationValue
	heading                *vehiclepb.Value_DoubleValue
	gear                   *vehiclepb.Value_ShiftStateValue
	odometer, soc, battery *vehiclepb.Value_DoubleValue

	insideTemp, outsideTemp *vehiclepb.Value_FloatValue
	hvacPower               *vehiclepb.Value_HvacPowerValue
	hvacAC                  *vehiclepb.Value_BooleanValue

	chargeState             *vehiclepb.Value_DetailedChargeStateValue
	chargeAmps, chargeLimit *vehiclepb.Value_IntValue
	scheduledStart          *vehiclepb.Time
	estRange                *vehiclepb.Value_FloatValue
	packVoltage             *vehiclepb.Value_DoubleValue

	doors          *vehiclepb.Doors
	locked, seated *vehiclepb.Value_BooleanValue
	sentry         *vehiclepb.Value_SentryModeStateValue

	lifetimeEnergy   *vehiclepb.Value_LongValue
	media            *vehiclepb.Value_MediaStatusValue
	destination      *vehiclepb.Value_StringValue
	minutesToArrival *vehiclepb.Value_FloatValue
}

// build creates the wrappers and returns the datum groups: the drive group
// first, then climate, charging, security and infotainment.
func (s *signals) build(vin string) [][]*vehiclepb.Datum {
	s.speed, s.heading = &vehiclepb.Value_FloatValue{}, &vehiclepb.Value_DoubleValue{}
	s.location, s.gear = &vehiclepb.LocationValue{}, &vehiclepb.Value_ShiftStateValue{}
	s.odometer, s.soc, s.battery = &vehiclepb.Value_DoubleValue{}, &vehiclepb.Value_DoubleValue{}, &vehiclepb.Value_DoubleValue{}
	s.insideTemp, s.outsideTemp = &vehiclepb.Value_FloatValue{}, &vehiclepb.Value_FloatValue{}
	s.hvacPower, s.hvacAC = &vehiclepb.Value_HvacPowerValue{}, &vehiclepb.Value_BooleanValue{}
	s.chargeState, s.scheduledStart = &vehiclepb.Value_DetailedChargeStateValue{}, &vehiclepb.Time{Hour: 1, Minute: 30}
	s.chargeAmps, s.chargeLimit = &vehiclepb.Value_IntValue{}, &vehiclepb.Value_IntValue{IntValue: 80}
	s.estRange, s.packVoltage = &vehiclepb.Value_FloatValue{}, &vehiclepb.Value_DoubleValue{}
	s.doors, s.sentry = &vehiclepb.Doors{}, &vehiclepb.Value_SentryModeStateValue{}
	s.locked, s.seated = &vehiclepb.Value_BooleanValue{}, &vehiclepb.Value_BooleanValue{}
	s.lifetimeEnergy, s.media = &vehiclepb.Value_LongValue{}, &vehiclepb.Value_MediaStatusValue{}
	s.destination, s.minutesToArrival = &vehiclepb.Value_StringValue{}, &vehiclepb.Value_FloatValue{}
	return s.groups(vin)
}

func (s *signals) groups(vin string) [][]*vehiclepb.Datum {
	return [][]*vehiclepb.Datum{
		{
			datum(vehiclepb.Field_VehicleSpeed, &vehiclepb.Value{Value: s.speed}),
			datum(vehiclepb.Field_Location, &vehiclepb.Value{Value: &vehiclepb.Value_LocationValue{LocationValue: s.location}}),
			datum(vehiclepb.Field_GpsHeading, &vehiclepb.Value{Value: s.heading}), datum(vehiclepb.Field_Gear, &vehiclepb.Value{Value: s.gear}),
			datum(vehiclepb.Field_Odometer, &vehiclepb.Value{Value: s.odometer}), datum(vehiclepb.Field_Soc, &vehiclepb.Value{Value: s.soc}),
			datum(vehiclepb.Field_BatteryLevel, &vehiclepb.Value{Value: s.battery}),
		},
		{
			datum(vehiclepb.Field_InsideTemp, &vehiclepb.Value{Value: s.insideTemp}), datum(vehiclepb.Field_OutsideTemp, &vehiclepb.Value{Value: s.outsideTemp}),
			datum(vehiclepb.Field_HvacPower, &vehiclepb.Value{Value: s.hvacPower}), datum(vehiclepb.Field_HvacACEnabled, &vehiclepb.Value{Value: s.hvacAC}),
		},
		{
			datum(vehiclepb.Field_DetailedChargeState, &vehiclepb.Value{Value: s.chargeState}), datum(vehiclepb.Field_ChargeAmps, &vehiclepb.Value{Value: s.chargeAmps}),
			datum(vehiclepb.Field_ChargeLimitSoc, &vehiclepb.Value{Value: s.chargeLimit}),
			datum(vehiclepb.Field_ScheduledChargingStartTime, &vehiclepb.Value{Value: &vehiclepb.Value_TimeValue{TimeValue: s.scheduledStart}}),
			datum(vehiclepb.Field_EstBatteryRange, &vehiclepb.Value{Value: s.estRange}), datum(vehiclepb.Field_PackVoltage, &vehiclepb.Value{Value: s.packVoltage}),
		},
		{
			datum(vehiclepb.Field_DoorState, &vehiclepb.Value{Value: &vehiclepb.Value_DoorValue{DoorValue: s.doors}}),
			datum(vehiclepb.Field_Locked, &vehiclepb.Value{Value: s.locked}), datum(vehiclepb.Field_SentryMode, &vehiclepb.Value{Value: s.sentry}),
			datum(vehiclepb.Field_DriverSeatOccupied, &vehiclepb.Value{Value: s.seated}),
		},
		{
			datum(vehiclepb.Field_VehicleName, &vehiclepb.Value{Value: &vehiclepb.Value_StringValue{StringValue: "Sim " + vin[max(len(vin)-6, 0):]}}),
			datum(vehiclepb.Field_Version, &vehiclepb.Value{Value: &vehiclepb.Value_StringValue{StringValue: "2025.44.25.5 1a2b3c4d5e"}}),
			datum(vehiclepb.Field_LifetimeEnergyUsed, &vehiclepb.Value{Value: s.lifetimeEnergy}), datum(vehiclepb.Field_MediaPlaybackStatus, &vehiclepb.Value{Value: s.media}),
			datum(vehiclepb.Field_DestinationName, &vehiclepb.Value{Value: s.destination}), datum(vehiclepb.Field_MinutesToArrival, &vehiclepb.Value{Value: s.minutesToArrival}),
		},
	}
}

// datum pairs a field with a value.
func datum(key vehiclepb.Field, v *vehiclepb.Value) *vehiclepb.Datum {
	return &vehiclepb.Datum{Key: key, Value: v}
}

// update copies the drive state into the values.
func (s *signals) update(d *drive, rng *rand.Rand) {
	s.speed.FloatValue = float32(roundTo(d.speedKmh/kmPerMile, 1))
	s.location.Latitude, s.location.Longitude = roundTo(d.lat, 6), roundTo(d.lon, 6)
	s.heading.DoubleValue = roundTo(d.heading, 1)
	s.gear.ShiftStateValue = d.gear()
	s.odometer.DoubleValue = roundTo(d.odometer, 3)
	s.soc.DoubleValue = roundTo(d.soc, 2)
	s.battery.DoubleValue = roundTo(d.soc*0.985, 2)
	s.updateClimate(d, rng)
	s.updateCharging(d)
	s.updateSecurity(d)
	s.updateInfo(d)
}

func (s *signals) updateClimate(d *drive, rng *rand.Rand) {
	s.outsideTemp.FloatValue = float32(roundTo(18+rng.Float64()*2, 1))
	s.hvacPower.HvacPowerValue = vehiclepb.HvacPowerState_HvacPowerStateOff
	s.hvacAC.BooleanValue = d.phase != phaseParked
	inside := 27.0
	if d.phase != phaseParked {
		s.hvacPower.HvacPowerValue = vehiclepb.HvacPowerState_HvacPowerStateOn
		inside = 21.5
	}
	s.insideTemp.FloatValue = float32(roundTo(inside+rng.Float64(), 1))
}

func (s *signals) updateCharging(d *drive) {
	s.chargeState.DetailedChargeStateValue = d.chargeState()
	s.chargeAmps.IntValue = 0
	if d.charging && d.soc < 80 {
		s.chargeAmps.IntValue = 32
	}
	s.estRange.FloatValue = float32(roundTo(d.soc*3.1, 1))
	s.packVoltage.DoubleValue = roundTo(340+d.soc*0.75, 3)
}

func (s *signals) updateSecurity(d *drive) {
	parked := d.phase == phaseParked
	// The driver's door opens in the first steps of a stop.
	*s.doors = vehiclepb.Doors{DriverFront: parked && d.wait > 15 && d.wait%40 < 3}
	s.locked.BooleanValue = parked && !s.doors.DriverFront
	s.seated.BooleanValue = !parked
	s.sentry.SentryModeStateValue = vehiclepb.SentryModeState_SentryModeStateOff
	if s.locked.BooleanValue {
		s.sentry.SentryModeStateValue = vehiclepb.SentryModeState_SentryModeStateArmed
	}
}

func (s *signals) updateInfo(d *drive) {
	s.lifetimeEnergy.LongValue = int64(d.odometer * kmPerMile * 150) // Wh at 150 Wh/km
	s.media.MediaStatusValue = vehiclepb.MediaStatus_MediaStatusStopped
	s.destination.StringValue = ""
	s.minutesToArrival.FloatValue = 0
	if d.phase != phaseDriving {
		return
	}
	s.media.MediaStatusValue = vehiclepb.MediaStatus_MediaStatusPlaying
	s.destination.StringValue = destinations[d.next%len(destinations)]
	target := d.route[d.next]
	s.minutesToArrival.FloatValue = float32(roundTo(distance(d.lat, d.lon, target[0], target[1])/max(d.cruiseKmh, 1)*60, 1))
}

// destinations name the route's waypoints.
var destinations = []string{"Home", "Work", "Supercharger", "Grocery", "Gym", "School", "Park", "Airport", "Mall", "Library"}
