package vehiclesim_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/envelope"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/shared/devpki"
	"github.com/fleetrelay/fleetrelay/test/ackserver"
	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
)

// capture is a vehicle-facing server that records every frame and request,
// leaves the first frame of each txid unanswered when told to, and acks
// the rest.
type capture struct {
	skipFirst bool

	mu      sync.Mutex
	frames  [][]byte
	headers []http.Header
	seen    map[string]bool
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	c.mu.Lock()
	c.headers = append(c.headers, r.Header.Clone())
	c.mu.Unlock()
	enc := envelope.NewEncoder()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var e envelope.Envelope
		if envelope.Decode(data, &e) != nil || c.skip(data, string(e.TxID)) {
			continue
		}
		if conn.WriteMessage(websocket.BinaryMessage, enc.Ack(e.TxID, e.Topic)) != nil {
			return
		}
	}
}

func (c *capture) skip(frame []byte, txid string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames = append(c.frames, bytes.Clone(frame))
	first := !c.seen[txid]
	c.seen[txid] = true
	return c.skipFirst && first
}

func startCapture(t *testing.T, c *capture) (string, vehiclesim.Vehicle, *devpki.Authority) {
	t.Helper()
	ca, err := devpki.NewCA(devpki.CASpec{CommonName: devpki.VehicleIssuerCN})
	require.NoError(t, err)
	serverLeaf, err := ca.Issue(devpki.ServerSpec())
	require.NoError(t, err)
	vin := devpki.GeneratedVINs(1)[0]
	vehicleLeaf, err := ca.Issue(devpki.VehicleSpec(vin))
	require.NoError(t, err)
	c.seen = map[string]bool{}
	srv := httptest.NewUnstartedServer(c)
	srv.TLS = ackserver.ServerTLS(serverLeaf.TLSCertificate(), ca.Pool())
	srv.StartTLS()
	t.Cleanup(srv.Close)
	url := "wss://" + strings.TrimPrefix(srv.URL, "https://") + "/"
	return url, vehiclesim.Vehicle{VIN: vin, Cert: vehicleLeaf.TLSCertificate()}, ca
}

func TestFramesAreVehicleShaped(t *testing.T) {
	c := &capture{}
	url, vehicle, ca := startCapture(t, c)
	cfg := vehiclesim.NewDefaultConfig()
	cfg.URL, cfg.RootCAs, cfg.Vehicles = url, ca.Pool(), []vehiclesim.Vehicle{vehicle}
	cfg.Duration, cfg.TxIDPrefix, cfg.Window = 300*time.Millisecond, "p", 2
	cfg.Mix = vehiclesim.Mix{"V": 1, "alerts": 1, "errors": 1}
	sim, err := vehiclesim.New(cfg, vehiclesim.Settings{})
	require.NoError(t, err)
	r := sim.Run(t.Context())
	require.Positive(t, r.Acked)

	c.mu.Lock()
	defer c.mu.Unlock()
	require.Len(t, c.headers, 1)
	require.Equal(t, vehiclesim.DefaultVersion, c.headers[0].Get("Version"))
	require.Equal(t, vehiclesim.DefaultNetworkInterface, c.headers[0].Get("X-Network-Interface"))
	topics := map[string]int{}
	for _, frame := range c.frames {
		topic := requireVehicleFrame(t, frame, vehicle.VIN)
		topics[topic]++
	}
	require.Len(t, topics, 3, "all three topics were sent: %v", topics)
}

// requireVehicleFrame checks one frame's envelope and payload and returns its topic.
func requireVehicleFrame(t *testing.T, frame []byte, vin string) string {
	t.Helper()
	var e envelope.Envelope
	require.NoError(t, envelope.Decode(frame, &e))
	require.Equal(t, envelope.TypeStream, e.Type)
	require.True(t, strings.HasPrefix(string(e.TxID), "p-"), string(e.TxID))
	require.Equal(t, vin+"-"+strings.TrimPrefix(string(e.TxID), "p-"), string(e.MessageID))
	require.Equal(t, "vehicle_device."+vin, string(e.Stream.SenderID))
	require.Equal(t, "vehicle_device", string(e.Stream.DeviceType))
	require.Equal(t, vin, string(e.Stream.DeviceID))
	require.InDelta(t, time.Now().Unix(), int64(e.Stream.CreatedAt), 60)
	require.Zero(t, e.Stream.DeliveredAtEpochMs)
	var msg proto.Message
	switch string(e.Topic) {
	case "V":
		msg = &vehiclepb.Payload{}
	case "alerts":
		msg = &vehiclepb.VehicleAlerts{}
	case "errors":
		msg = &vehiclepb.VehicleErrors{}
	default:
		t.Fatalf("unexpected topic %q", e.Topic)
	}
	require.NoError(t, proto.Unmarshal(e.Stream.Payload, msg))
	return string(e.Topic)
}

func TestResentRecordsKeepTxIDAndFlagResend(t *testing.T) {
	c := &capture{skipFirst: true}
	url, vehicle, ca := startCapture(t, c)
	cfg := vehiclesim.NewDefaultConfig()
	cfg.URL, cfg.RootCAs, cfg.Vehicles = url, ca.Pool(), []vehiclesim.Vehicle{vehicle}
	cfg.Duration, cfg.TxIDPrefix, cfg.ResendTimeout = 400*time.Millisecond, "p", 30*time.Millisecond
	cfg.Mix = vehiclesim.Mix{"V": 1}
	sim, err := vehiclesim.New(cfg, vehiclesim.Settings{})
	require.NoError(t, err)
	r := sim.Run(t.Context())
	require.Positive(t, r.Acked)
	require.Equal(t, r.Sent, r.Resends, "every record was resent once")

	c.mu.Lock()
	defer c.mu.Unlock()
	first := map[string][]byte{}
	for _, frame := range c.frames {
		var e envelope.Envelope
		require.NoError(t, envelope.Decode(frame, &e))
		var p vehiclepb.Payload
		require.NoError(t, proto.Unmarshal(e.Stream.Payload, &p))
		txid := string(e.TxID)
		orig, resent := first[txid]
		require.Equal(t, resent, p.GetIsResend(), txid)
		if !resent {
			first[txid] = bytes.Clone(e.Stream.Payload)
			continue
		}
		var o vehiclepb.Payload
		require.NoError(t, proto.Unmarshal(orig, &o))
		o.IsResend = true
		require.True(t, proto.Equal(&o, &p), "a resend carries the same data")
	}
}
