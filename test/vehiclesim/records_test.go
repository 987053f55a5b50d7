package vehiclesim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

const testVIN = "5YJ3E1EA1KF000001"

// valueKind names the oneof member a datum carries.
func valueKind(d *vehiclepb.Datum) string {
	return string(d.GetValue().ProtoReflect().WhichOneof(d.GetValue().ProtoReflect().Descriptor().Oneofs().ByName("value")).Name())
}

func TestGeneratorRecordsDecode(t *testing.T) {
	g := newGenerator(testVIN, 1, DefaultMix())
	now := time.Unix(1700000000, 5)
	kinds := map[string]bool{}
	topics := map[string]int{}
	for range 2000 {
		topic, payload, err := g.next(now, nil)
		require.NoError(t, err)
		topics[topic]++
		switch topic {
		case TopicV:
			var p vehiclepb.Payload
			require.NoError(t, proto.Unmarshal(payload, &p))
			require.Equal(t, testVIN, p.GetVin())
			require.Equal(t, now.Unix(), p.GetCreatedAt().GetSeconds())
			require.False(t, p.GetIsResend())
			require.GreaterOrEqual(t, len(p.GetData()), 11)
			for _, d := range p.GetData() {
				kinds[valueKind(d)] = true
			}
		case TopicAlerts:
			var a vehiclepb.VehicleAlerts
			require.NoError(t, proto.Unmarshal(payload, &a))
			require.NotEmpty(t, a.GetAlerts())
			require.Contains(t, a.GetAlerts()[0].GetAudiences(), vehiclepb.Audience_Customer)
			require.NotNil(t, a.GetAlerts()[0].GetStartedAt())
		case TopicErrors:
			var e vehiclepb.VehicleErrors
			require.NoError(t, proto.Unmarshal(payload, &e))
			require.Len(t, e.GetErrors(), 1)
			require.Equal(t, "gateway", e.GetErrors()[0].GetTags()["ecu"])
		}
	}
	for _, k := range []string{"string_value", "int_value", "long_value", "float_value", "double_value", "boolean_value",
		"location_value", "shift_state_value", "door_value", "time_value", "detailed_charge_state_value",
		"sentry_mode_state_value", "hvac_power_value", "media_status_value"} {
		require.True(t, kinds[k], "no datum of kind %s", k)
	}
	require.InDelta(t, 1800, topics[TopicV], 100)
	require.InDelta(t, 100, topics[TopicAlerts], 50)
	require.InDelta(t, 100, topics[TopicErrors], 50)
}

func TestResendFlagAppended(t *testing.T) {
	g := newGenerator(testVIN, 2, Mix{TopicV: 1})
	_, payload, err := g.next(time.Now(), nil)
	require.NoError(t, err)
	var p vehiclepb.Payload
	require.NoError(t, proto.Unmarshal(append(payload, isResendTrue...), &p))
	require.True(t, p.GetIsResend())
	require.NotEmpty(t, p.GetData())
}

func TestDriveCycle(t *testing.T) {
	d := newDrive(newGenerator(testVIN, 3, DefaultMix()).rng)
	startOdo, startLat, startLon := d.odometer, d.lat, d.lon
	gears := map[vehiclepb.ShiftState]bool{}
	var maxSpeed float64
	for range 3000 {
		d.step()
		gears[d.gear()] = true
		maxSpeed = max(maxSpeed, d.speedKmh)
		require.GreaterOrEqual(t, d.soc, 0.0)
		require.LessOrEqual(t, d.soc, 100.0)
	}
	require.Greater(t, d.odometer, startOdo+1, "drove at least a mile")
	require.NotEqual(t, [2]float64{startLat, startLon}, [2]float64{d.lat, d.lon})
	require.True(t, gears[vehiclepb.ShiftState_ShiftStateP] && gears[vehiclepb.ShiftState_ShiftStateR] && gears[vehiclepb.ShiftState_ShiftStateD])
	require.Greater(t, maxSpeed, 30.0)
	require.LessOrEqual(t, maxSpeed, 160.0)
}

func TestDriveDischargesAndCharges(t *testing.T) {
	d := newDrive(newGenerator(testVIN, 4, DefaultMix()).rng)
	d.soc = 31
	var charged bool
	for range 100000 {
		before := d.soc
		d.step()
		if d.phase == phaseDriving {
			require.LessOrEqual(t, d.soc, before)
		}
		if d.charging && d.soc > before {
			charged = true
			require.Equal(t, vehiclepb.DetailedChargeStateValue_DetailedChargeStateCharging, d.chargeState())
			break
		}
	}
	require.True(t, charged, "a low battery is charged at a stop")
}

func TestPacer(t *testing.T) {
	p := newPacer(10) // every 100 ms
	now := time.Unix(0, 0)
	require.Zero(t, p.reserve(now))
	require.Equal(t, 100*time.Millisecond, p.reserve(now))
	require.Equal(t, 200*time.Millisecond, p.reserve(now))
	// After a long stall, no burst: the next slot is now, then one interval.
	later := now.Add(10 * time.Second)
	require.Zero(t, p.reserve(later))
	require.Equal(t, 100*time.Millisecond, p.reserve(later))
	unpaced := newPacer(0)
	require.Zero(t, unpaced.reserve(now))
}

func TestBackoff(t *testing.T) {
	b := newBackoff(100*time.Millisecond, time.Second)
	var got []time.Duration
	for range 6 {
		got = append(got, b.next())
	}
	bounds := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, d := range got {
		hi := bounds[i] * time.Millisecond
		require.GreaterOrEqual(t, d, hi/2, "delay %d", i)
		require.LessOrEqual(t, d, hi, "delay %d", i)
	}
	b.reset()
	require.LessOrEqual(t, b.next(), 100*time.Millisecond)
}

func TestPayloadEncoderMatchesProtoMarshal(t *testing.T) {
	g := newGenerator(testVIN, 5, Mix{TopicV: 1})
	var enc payloadEncoder
	for i := range 3000 {
		p := g.nextV(time.Unix(1700000000+int64(i), int64(i)*1000))
		p.IsResend = i%7 == 0
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
		require.NoError(t, err)
		got, ok := enc.appendPayload(nil, p)
		require.True(t, ok)
		require.Equal(t, want, got, "record %d", i)
	}
}

func TestPayloadEncoderRejectsOtherValueTypes(t *testing.T) {
	var enc payloadEncoder
	p := &vehiclepb.Payload{Data: []*vehiclepb.Datum{{Key: vehiclepb.Field_CarType,
		Value: &vehiclepb.Value{Value: &vehiclepb.Value_CarTypeValue{CarTypeValue: vehiclepb.CarTypeValue_CarTypeModel3}}}}}
	out, ok := enc.appendPayload([]byte("keep"), p)
	require.False(t, ok)
	require.Equal(t, []byte("keep"), out)
}
