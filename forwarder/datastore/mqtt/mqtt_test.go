package mqtt

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

const vin = "5YJ3E1EA1KF000001"

// referenceLayout is what the reference's MQTT producer publishes for the
// conformance vectors: topic suffix after "<base>/<VIN>/" → JSON value.
var referenceLayout = map[string]map[string]string{
	"v_scalars": {
		"v/VehicleName": `"My Test Vehicle"`, "v/Odometer": `12345`, "v/LifetimeEnergyUsed": `9876543210`,
		"v/VehicleSpeed": `65.5`, "v/PackVoltage": `401.123456789`, "v/BatteryHeaterOn": `true`,
		"v/Locked": `false`, "v/Soc": `"80.5"`,
	},
	"v_enums": {
		"v/Gear": `"ShiftStateD"`, "v/DetailedChargeState": `"DetailedChargeStateCharging"`,
		"v/SentryMode": `"SentryModeStateArmed"`, "v/CarType": `"CarTypeModel3"`, "v/HvacPower": `"HvacPowerStateOn"`,
		"v/ChargePortLatch": `"ChargePortLatchEngaged"`, "v/BMSState": `"BMSStateDrive"`,
		"v/MediaPlaybackStatus": `"MediaStatusPlaying"`, "v/EstBatteryRange": `null`,
		"v/ScheduledChargingStartTime": `"07:05:00"`,
		"v/DoorState":                  `{"DriverFront":true,"DriverRear":false,"PassengerFront":false,"PassengerRear":false,"TrunkFront":false,"TrunkRear":true}`,
		"v/TpmsSoftWarnings":           `{"front_left":true,"rear_right":true}`,
		"v/ChargeState":                `"ChargeStateCharging"`,
	},
	"v_resend_unknown_field": {"v/VehicleName": `"resend"`, "v/999": `1`},
	"alerts": {
		"alerts/Name_Of_The_Alert/current": `{"Audiences":["Customer","Service"],"StartedAt":"2023-12-31T23:56:40Z"}`,
		"alerts/Name_Of_The_Alert/history": `[{"Audiences":["Customer","Service"],"StartedAt":"2023-12-31T23:56:40Z"}]`,
		"alerts/Other_Alert/current":       `{"Audiences":["ServiceFix"],"EndedAt":"2023-12-31T23:58:20Z","StartedAt":"2023-12-31T23:40:00Z"}`,
		"alerts/Other_Alert/history":       `[{"Audiences":["ServiceFix"],"EndedAt":"2023-12-31T23:58:20Z","StartedAt":"2023-12-31T23:40:00Z"}]`,
		"alerts/Ms_Alert/current":          `{"Audiences":null,"StartedAt":"2023-08-14T20:28:06Z"}`,
		"alerts/Ms_Alert/history":          `[{"Audiences":null,"StartedAt":"2023-08-14T20:28:06Z"}]`,
	},
	"errors": {
		"errors/fleet_telemetry_error": `{"Body":"something failed","CreatedAt":"2023-12-31T23:59:59Z","Tags":{"field":"VehicleSpeed"}}`,
		"errors/other_error":           `{"Body":"","CreatedAt":"2023-12-31T23:59:58Z","Tags":{"k":"v"}}`,
	},
	"connectivity_from_vehicle": {
		"connectivity": `{"ConnectionId":"conn-1","CreatedAt":"2024-01-01T00:00:00Z","Status":"CONNECTED"}`,
	},
}

func newSink(t testing.TB, cfg config.MQTTConfig) *Sink {
	t.Helper()
	s, err := New(&cfg, datastore.Settings{Namespace: "ignored", TransmitDecodedRecords: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// TestMQTTReferenceLayout publishes the conformance vectors (each under its
// own topic base) and compares topics and JSON values with the reference's.
func TestMQTTReferenceLayout(t *testing.T) {
	b := startBroker(t)
	sub := subscribe(t, b, "layout/#")
	vectors := map[string]datastoretest.Vector{}
	for _, v := range datastoretest.Vectors(t) {
		vectors[v.Name] = v
	}
	for name, want := range referenceLayout {
		t.Run(name, func(t *testing.T) {
			v, ok := vectors[name]
			require.True(t, ok, "vector %s missing", name)
			base := "layout/" + name
			s := newSink(t, config.MQTTConfig{Broker: b.plainURL(), TopicBase: base, QoS: 1, ClientID: "layout-" + name})
			require.NoError(t, s.Write(t.Context(), []datastore.Record{v.Record}))
			prefix := base + "/" + vin + "/"
			got := sub.waitFor(t, name, func(m map[string][][]byte) bool { return countPrefix(m, prefix) >= len(want) })
			require.Equal(t, len(want), countPrefix(got, prefix), "topics under %s", prefix)
			for suffix, js := range want {
				msgs := got[prefix+suffix]
				require.Len(t, msgs, 1, suffix)
				require.JSONEq(t, js, string(msgs[0]), suffix)
			}
		})
	}
}

func countPrefix(m map[string][][]byte, prefix string) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// TestMQTTTLSAndPassword connects to the TLS listener with the test CA, a
// client certificate and a password; a wrong password must fail the Write
// (transiently) instead of reporting success.
func TestMQTTTLSAndPassword(t *testing.T) {
	b := startBroker(t)
	sub := subscribe(t, b, "tls/#")
	tests := []struct {
		name     string
		password string
		wantErr  bool
	}{
		{"good_credentials", testPassword, false},
		{"wrong_password", "nope", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, config.MQTTConfig{
				Broker: b.tlsURL(), TopicBase: "tls/" + tc.name, QoS: 1, Username: testUser, Password: tc.password,
				ClientID: "tls-" + tc.name, PublishTimeoutMs: 1500, ConnectRetryIntervalMs: 200,
				TLS: &config.MQTTTLSConfig{CAFile: b.ca, ServerCert: b.cert, ServerKey: b.key},
			})
			err := s.Write(t.Context(), datastoretest.Synthetic(t, 1, 3, 1))
			if tc.wantErr {
				require.ErrorContains(t, err, "not connected")
				require.False(t, datastore.IsPermanent(err))
				return
			}
			require.NoError(t, err)
			topic := "tls/" + tc.name + "/" + datastoretest.VIN(0) + "/v/Odometer"
			sub.waitFor(t, topic, func(m map[string][][]byte) bool { return len(m[topic]) == 3 })
		})
	}
}

// TestMQTTBrokerOutage kills mosquitto mid-run and restarts it: Writes fail
// while it is down and every record is eventually published.
func TestMQTTBrokerOutage(t *testing.T) {
	b := startBroker(t)
	sub := subscribe(t, b, "outage/#")
	s := newSink(t, config.MQTTConfig{
		Broker: b.plainURL(), TopicBase: "outage", QoS: 1, ClientID: "outage",
		PublishTimeoutMs: 1000, ConnectRetryIntervalMs: 100,
	})
	const batches, size, vins = 10, 200, 5
	failures := 0
	for bn := range batches {
		if bn == 4 {
			// Let the broker hand what it acknowledged to the subscriber
			// before killing it: that hand-off is not the sink's to confirm.
			sub.waitFor(t, "records before the outage", func(m map[string][][]byte) bool { return len(indexes(t, m)) == bn*size })
			b.proc.Stop()
		}
		recs := datastoretest.Synthetic(t, uint64(bn*size+1), size, vins)
		for attempt := 0; ; attempt++ {
			require.Less(t, attempt, 60, "batch %d never published", bn)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			err := s.Write(ctx, recs)
			cancel()
			if err == nil {
				break
			}
			failures++
			require.False(t, datastore.IsPermanent(err), "%v", err)
			if b.proc.Exited() && attempt == 1 {
				b.start(t)
				sub.waitReady(t)
			}
		}
	}
	require.Positive(t, failures, "the outage was not observed")
	got := sub.waitFor(t, "every record", func(m map[string][][]byte) bool { return len(indexes(t, m)) == batches*size })
	require.Len(t, indexes(t, got), batches*size)
	t.Logf("broker outage: %d failed Writes", failures)
}

func indexes(t testing.TB, m map[string][][]byte) map[uint64]bool {
	out := map[uint64]bool{}
	for topic, msgs := range m {
		if !strings.HasSuffix(topic, "/v/Odometer") {
			continue
		}
		for _, p := range msgs {
			n, err := strconv.ParseUint(string(p), 10, 64)
			require.NoError(t, err)
			out[n] = true
		}
	}
	return out
}

func TestMQTTUnknownTopicIsPermanent(t *testing.T) {
	b := startBroker(t)
	s := newSink(t, config.MQTTConfig{Broker: b.plainURL(), TopicBase: "x", QoS: 1})
	recs := datastoretest.Synthetic(t, 1, 1, 1)
	recs[0].WAL.Topic = "canlogs"
	var partial *datastore.PartialError
	require.ErrorAs(t, s.Write(t.Context(), recs), &partial)
	require.True(t, datastore.IsPermanent(partial.Errs[0]))
}

// TestMQTTQoS0 checks the reference's default QoS: Write succeeds once the
// messages are written to the connection (no broker acknowledgement).
func TestMQTTQoS0(t *testing.T) {
	b := startBroker(t)
	sub := subscribe(t, b, "qos0/#")
	s := newSink(t, config.MQTTConfig{Broker: b.plainURL(), TopicBase: "qos0", ClientID: "qos0"})
	require.NoError(t, s.Write(t.Context(), datastoretest.Synthetic(t, 1, 10, 1)))
	topic := "qos0/" + datastoretest.VIN(0) + "/v/Odometer"
	sub.waitFor(t, topic, func(m map[string][][]byte) bool { return len(m[topic]) == 10 })
}
