package vehiclesim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// generator builds one vehicle's records. Its protobuf messages are built
// once and updated in place, so that a record costs one marshal and no
// message allocations. Not safe for concurrent use.
type generator struct {
	vin    string
	rng    *rand.Rand
	drive  *drive
	mix    picker
	sig    signals
	groups [][]*vehiclepb.Datum // groups[0] is sent in every V record
	turn   int                  // which other group the next V record carries

	v      vehiclepb.Payload
	enc    payloadEncoder
	alerts vehiclepb.VehicleAlerts
	errs   vehiclepb.VehicleErrors
}

// newGenerator seeds the vehicle's randomness from seed, so a VIN always
// drives the same route.
func newGenerator(vin string, seed uint64, mix Mix) *generator {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &generator{vin: vin, rng: rng, drive: newDrive(rng), mix: newPicker(mix)}
	g.groups = g.sig.build(vin)
	g.v = vehiclepb.Payload{Vin: vin, CreatedAt: &timestamppb.Timestamp{}}
	g.alerts = vehiclepb.VehicleAlerts{Vin: vin, CreatedAt: &timestamppb.Timestamp{}}
	g.errs = vehiclepb.VehicleErrors{Vin: vin, CreatedAt: &timestamppb.Timestamp{}}
	return g
}

// next picks a topic by weight and appends the marshalled record created at
// now to buf.
func (g *generator) next(now time.Time, buf []byte) (string, []byte, error) {
	topic := g.mix.pick(g.rng)
	var msg proto.Message
	switch topic {
	case TopicAlerts:
		msg = g.nextAlerts(now)
	case TopicErrors:
		msg = g.nextErrors(now)
	default:
		if out, ok := g.enc.appendPayload(buf, g.nextV(now)); ok {
			return topic, out, nil
		}
		msg = &g.v
	}
	out, err := proto.MarshalOptions{}.MarshalAppend(buf, msg)
	if err != nil {
		return topic, buf, fmt.Errorf("marshal %s record: %w", topic, err)
	}
	return topic, out, nil
}

// nextV advances the drive and fills the V payload: the drive signals plus
// one rotating group of other signals.
func (g *generator) nextV(now time.Time) *vehiclepb.Payload {
	g.drive.step()
	g.sig.update(g.drive, g.rng)
	g.turn = g.turn%(len(g.groups)-1) + 1
	g.v.Data = append(append(g.v.Data[:0], g.groups[0]...), g.groups[g.turn]...)
	setTime(g.v.CreatedAt, now)
	return &g.v
}

// Alert names as vehicles report them (<ECU>_a<number>_<description>).
var alertNames = []string{
	"BMS_a069_SW_SOC_Imbalance", "CP_a004_cableNotReady", "UMC_a001_chargerFault",
	"VCFRONT_a192_hvacBlowerFault", "DI_a175_motorOverheat", "APP_w224_autopilotUnavailable",
}

func (g *generator) nextAlerts(now time.Time) *vehiclepb.VehicleAlerts {
	n := 1 + g.rng.IntN(2)
	for len(g.alerts.Alerts) < n {
		g.alerts.Alerts = append(g.alerts.Alerts, &vehiclepb.VehicleAlert{StartedAt: &timestamppb.Timestamp{}})
	}
	g.alerts.Alerts = g.alerts.Alerts[:n]
	for _, a := range g.alerts.Alerts {
		a.Name = alertNames[g.rng.IntN(len(alertNames))]
		a.Audiences = append(a.Audiences[:0], vehiclepb.Audience_Customer)
		if g.rng.IntN(2) == 0 {
			a.Audiences = append(a.Audiences, vehiclepb.Audience_Service)
		}
		setTime(a.StartedAt, now.Add(-time.Duration(g.rng.IntN(600))*time.Second))
		a.EndedAt = nil // active
		if g.rng.IntN(2) == 0 {
			a.EndedAt = timestamppb.New(now)
		}
	}
	setTime(g.alerts.CreatedAt, now)
	return &g.alerts
}

// Error names and their bodies as vehicles report them.
var errorNames = [][2]string{
	{"gateway_tcp_reset", "connection reset by peer"},
	{"cellular_modem_reboot", "modem watchdog expired"},
	{"telemetry_buffer_full", "dropped oldest samples"},
}

func (g *generator) nextErrors(now time.Time) *vehiclepb.VehicleErrors {
	if len(g.errs.Errors) == 0 {
		g.errs.Errors = []*vehiclepb.VehicleError{{CreatedAt: &timestamppb.Timestamp{}, Tags: map[string]string{}}}
	}
	e := g.errs.Errors[0]
	pick := errorNames[g.rng.IntN(len(errorNames))]
	e.Name, e.Body = pick[0], pick[1]
	e.Tags["ecu"] = "gateway"
	e.Tags["boot_count"] = fmt.Sprint(g.rng.IntN(50))
	setTime(e.CreatedAt, now)
	setTime(g.errs.CreatedAt, now)
	return &g.errs
}

func setTime(ts *timestamppb.Timestamp, t time.Time) {
	ts.Seconds, ts.Nanos = t.Unix(), int32(t.Nanosecond())
}

// picker chooses topics by integer weight.
type picker struct {
	topics []string
	cum    []int
}

func newPicker(m Mix) picker {
	var p picker
	total := 0
	for _, t := range []string{TopicV, TopicAlerts, TopicErrors} {
		if w := m[t]; w > 0 {
			total += w
			p.topics = append(p.topics, t)
			p.cum = append(p.cum, total)
		}
	}
	return p
}

func (p picker) pick(rng *rand.Rand) string {
	n := rng.IntN(p.cum[len(p.cum)-1])
	for i, c := range p.cum {
		if n < c {
			return p.topics[i]
		}
	}
	return p.topics[len(p.topics)-1]
}

// roundTo rounds v to the given number of decimals, as vehicles report values.
func roundTo(v float64, decimals int) float64 {
	scale := math.Pow(10, float64(decimals))
	return math.Round(v*scale) / scale
}
