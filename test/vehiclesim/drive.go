package vehiclesim

import (
	"math"
	"math/rand/v2"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// Physical constants of the drive model. Every V record advances the model
// by stepSeconds of vehicle time, whatever the wall-clock rate, so that a
// fast run still looks like a plausible drive.
const (
	stepSeconds   = 1.0
	earthRadiusKm = 6371.0
	kmPerMile     = 1.609344
	// socPerKm: about 150 Wh/km from a 75 kWh pack.
	socPerKm = 0.2
	// socPerChargeStep: about 11 kW AC charging into 75 kWh.
	socPerChargeStep = 0.004
	accelKmhPerStep  = 7.0 // about 2 m/s²
	arrivalKm        = 0.05
	reverseSteps     = 4
)

// phase is where the vehicle is in its drive cycle.
type phase int

const (
	phaseParked phase = iota
	phaseReverse
	phaseDriving
)

// drive is one vehicle's state: it parks (charging when low), backs out,
// drives to the next waypoint of a closed route and parks again.
type drive struct {
	rng       *rand.Rand
	route     [][2]float64 // waypoints, degrees
	next      int          // index of the waypoint being driven to
	lat, lon  float64
	heading   float64 // degrees
	speedKmh  float64
	cruiseKmh float64
	odometer  float64 // miles
	soc       float64 // percent
	phase     phase
	wait      int // steps left in phaseParked or phaseReverse
	charging  bool
}

// newDrive places a vehicle on its own route around a point near Fremont, CA.
func newDrive(rng *rand.Rand) *drive {
	centerLat := 37.49 + rng.Float64()*0.2 - 0.1
	centerLon := -121.94 + rng.Float64()*0.2 - 0.1
	d := &drive{
		rng:      rng,
		route:    makeRoute(rng, centerLat, centerLon),
		odometer: 5000 + rng.Float64()*40000,
		soc:      35 + rng.Float64()*55,
		wait:     rng.IntN(10),
	}
	d.lat, d.lon = d.route[0][0], d.route[0][1]
	d.next = 1
	return d
}

// makeRoute returns 6 to 10 waypoints on a rough circle of 2 to 8 km radius.
func makeRoute(rng *rand.Rand, lat, lon float64) [][2]float64 {
	n := 6 + rng.IntN(5)
	radiusKm := 2 + rng.Float64()*6
	route := make([][2]float64, n)
	for i := range route {
		angle := 2 * math.Pi * (float64(i) + rng.Float64()*0.4) / float64(n)
		r := radiusKm * (0.7 + rng.Float64()*0.6)
		route[i] = offset(lat, lon, r*math.Sin(angle), r*math.Cos(angle))
	}
	return route
}

// step advances the model by one record's worth of vehicle time.
func (d *drive) step() {
	switch d.phase {
	case phaseParked:
		d.stepParked()
	case phaseReverse:
		d.stepReverse()
	default:
		d.stepDriving()
	}
}

func (d *drive) stepParked() {
	d.speedKmh = 0
	if d.charging {
		d.soc = math.Min(d.soc+socPerChargeStep, 100)
	}
	if d.wait > 0 {
		d.wait--
		return
	}
	if d.charging && d.soc < 80 {
		return // keep charging to the charge limit
	}
	d.charging = false
	d.phase, d.wait = phaseReverse, reverseSteps
}

func (d *drive) stepReverse() {
	d.speedKmh = 4
	d.move(d.speedKmh*stepSeconds/3600, d.heading+180)
	if d.wait--; d.wait <= 0 {
		d.phase = phaseDriving
		d.cruiseKmh = 40 + d.rng.Float64()*70
	}
}

func (d *drive) stepDriving() {
	target := d.route[d.next]
	distKm := distance(d.lat, d.lon, target[0], target[1])
	want := math.Min(d.cruiseKmh, 15+distKm*120) // slow down on approach
	want += d.rng.NormFloat64() * 2
	d.speedKmh = clamp(want, d.speedKmh-accelKmhPerStep, d.speedKmh+accelKmhPerStep)
	d.speedKmh = clamp(d.speedKmh, 0, 160)
	stepKm := d.speedKmh * stepSeconds / 3600
	d.heading = bearing(d.lat, d.lon, target[0], target[1])
	if stepKm >= distKm-arrivalKm {
		d.lat, d.lon, stepKm = target[0], target[1], distKm
		d.arrive()
	} else {
		d.move(stepKm, d.heading)
	}
	d.odometer += stepKm / kmPerMile
	d.soc = math.Max(d.soc-stepKm*socPerKm, 0)
}

// arrive parks at the waypoint for a while, charging if the battery is low.
func (d *drive) arrive() {
	d.next = (d.next + 1) % len(d.route)
	d.phase = phaseParked
	d.wait = 20 + d.rng.IntN(100)
	d.charging = d.soc < 30
}

func (d *drive) move(km, headingDeg float64) {
	rad := headingDeg * math.Pi / 180
	p := offset(d.lat, d.lon, km*math.Sin(rad), km*math.Cos(rad))
	d.lat, d.lon = p[0], p[1]
}

// gear is the shift state of the current phase.
func (d *drive) gear() vehiclepb.ShiftState {
	switch d.phase {
	case phaseReverse:
		return vehiclepb.ShiftState_ShiftStateR
	case phaseDriving:
		return vehiclepb.ShiftState_ShiftStateD
	}
	return vehiclepb.ShiftState_ShiftStateP
}

// chargeState is the detailed charge state of the current phase.
func (d *drive) chargeState() vehiclepb.DetailedChargeStateValue {
	switch {
	case d.charging && d.soc >= 80:
		return vehiclepb.DetailedChargeStateValue_DetailedChargeStateComplete
	case d.charging:
		return vehiclepb.DetailedChargeStateValue_DetailedChargeStateCharging
	}
	return vehiclepb.DetailedChargeStateValue_DetailedChargeStateDisconnected
}

// offset moves a point by east/north kilometres (equirectangular, fine at city scale).
func offset(lat, lon, eastKm, northKm float64) [2]float64 {
	dLat := northKm / earthRadiusKm * 180 / math.Pi
	dLon := eastKm / (earthRadiusKm * math.Cos(lat*math.Pi/180)) * 180 / math.Pi
	return [2]float64{lat + dLat, lon + dLon}
}

// distance is the equirectangular distance in kilometres.
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	x := (lon2 - lon1) * math.Cos((lat1+lat2)/2*math.Pi/180)
	y := lat2 - lat1
	return math.Hypot(x, y) * math.Pi / 180 * earthRadiusKm
}

// bearing is the initial heading from point 1 to point 2 in degrees [0, 360).
func bearing(lat1, lon1, lat2, lon2 float64) float64 {
	x := (lon2 - lon1) * math.Cos((lat1+lat2)/2*math.Pi/180)
	y := lat2 - lat1
	return math.Mod(math.Atan2(x, y)*180/math.Pi+360, 360)
}

func clamp(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, v))
}
