package app_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/envelope"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

const testVIN = "5YJ3E1EA1KF000001"

// vFrame builds a V frame with txid and a VehicleName of nameBytes bytes.
func vFrame(t *testing.T, txid string, nameBytes int) []byte {
	t.Helper()
	payload, err := proto.Marshal(&vehiclepb.Payload{Data: []*vehiclepb.Datum{{
		Key:   vehiclepb.Field_VehicleName,
		Value: &vehiclepb.Value{Value: &vehiclepb.Value_StringValue{StringValue: strings.Repeat("n", nameBytes)}},
	}}})
	require.NoError(t, err)
	return slices.Clone(envelope.NewEncoder().Stream([]byte(txid), []byte("V"), []byte("msg-"+txid), envelope.Stream{
		CreatedAt: 1700000000, SenderID: []byte("vehicle_device." + testVIN), Payload: payload,
		DeviceType: []byte("vehicle_device"), DeviceID: []byte(testVIN),
	}))
}

// ackedTxIDs reads answers until the connection ends and returns the acked
// txids and the error that ended the connection.
func ackedTxIDs(t *testing.T, ws *websocket.Conn) ([]string, error) {
	t.Helper()
	var acked []string
	for {
		require.NoError(t, ws.SetReadDeadline(time.Now().Add(30*time.Second)))
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return acked, err
		}
		e, derr := decodeAnswer(msg)
		require.NoError(t, derr)
		require.Equal(t, envelope.TypeStreamAck, e.Type)
		acked = append(acked, string(e.TxID))
	}
}

func txids(recs []*walpb.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.GetTxid()))
	}
	return out
}

// TestShutdownDrain stops the gateway while vehicles stream: every acked
// record is in the WAL, acks stop only at the going-away close frame, and
// the drain ends well within the shutdown timeout.
func TestShutdownDrain(t *testing.T) {
	g := startGateway(t, "config.json", nil)
	const vehicles, perVehicle = 3, 400
	type result struct {
		acked []string
		err   error
	}
	results := make([]result, vehicles)
	var wg sync.WaitGroup
	for i := range vehicles {
		ws := g.dial(t, "client")
		wg.Go(func() {
			go func() {
				for j := range perVehicle {
					if ws.WriteMessage(websocket.BinaryMessage, vFrame(t, txid(i, j), 16)) != nil {
						return
					}
				}
			}()
			results[i].acked, results[i].err = ackedTxIDs(t, ws)
		})
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	ctx, cancel := contextWithTimeout(g.cfg.Gateway.ShutdownTimeout.D())
	defer cancel()
	require.NoError(t, g.Shutdown(ctx))
	require.Less(t, time.Since(start), 10*time.Second)
	wg.Wait()

	stored := txids(vehicleRecords(g.walRecords(t)))
	total := 0
	for i, r := range results {
		require.True(t, websocket.IsCloseError(r.err, websocket.CloseGoingAway), "vehicle %d: %v", i, r.err)
		require.Subset(t, stored, r.acked, "acked ⊆ stored")
		total += len(r.acked)
	}
	require.Positive(t, total)
}

func txid(i, j int) string { return "tx-" + itoa(i) + "-" + itoa(j) }

func TestConnectivityRecordsAndOnlineState(t *testing.T) {
	g := startGateway(t, "config.json", nil)
	wifi := g.dial(t, "client")
	cellular := g.dial(t, "client")
	require.Equal(t, 1, g.Online(), "two sockets, one vehicle")
	require.NoError(t, wifi.Close())
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, 1, g.Online(), "still online through the cellular socket")
	require.NoError(t, cellular.Close())
	require.Eventually(t, func() bool { return g.Online() == 0 }, 5*time.Second, 20*time.Millisecond)

	var statuses []vehiclepb.ConnectivityEvent
	for _, rec := range g.walRecords(t) {
		require.True(t, rec.GetGenerated())
		require.Equal(t, "connectivity", rec.GetTopic())
		require.Equal(t, testVIN, rec.GetVin())
		var c vehiclepb.VehicleConnectivity
		require.NoError(t, proto.Unmarshal(rec.GetPayload(), &c))
		require.Equal(t, "wifi", c.GetNetworkInterface())
		statuses = append(statuses, c.GetStatus())
	}
	require.ElementsMatch(t, []vehiclepb.ConnectivityEvent{
		vehiclepb.ConnectivityEvent_CONNECTED, vehiclepb.ConnectivityEvent_CONNECTED,
		vehiclepb.ConnectivityEvent_DISCONNECTED, vehiclepb.ConnectivityEvent_DISCONNECTED,
	}, statuses)
}

// TestWALFullIsNotAcked fills a tiny disk budget: records the WAL refuses
// get no answer (the vehicle resends), and the WAL holds exactly the acked
// records.
func TestWALFullIsNotAcked(t *testing.T) {
	g := startGateway(t, "config.json", func(c *config.Config) {
		delete(c.Records, "connectivity")
		c.WAL.Partitions = 1
		c.WAL.SegmentSizeBytes = 64 << 10
		c.WAL.PreallocateBytes = -1 // the default (1 MiB) exceeds these small segments
		c.WAL.DiskBudgetBytes = 128 << 10
		c.Gateway.WALRetryDelay = config.Duration(300 * time.Millisecond)
	})
	ws := g.dial(t, "client")
	var acked []string
	refused := ""
	for j := 0; j < 40 && refused == ""; j++ {
		id := txid(0, j)
		require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, vFrame(t, id, 8<<10)))
		// A slow fsync on a busy machine must not pass for a refusal.
		require.NoError(t, ws.SetReadDeadline(time.Now().Add(3*time.Second)))
		_, msg, err := ws.ReadMessage()
		if isTimeout(err) {
			refused = id
			continue
		}
		require.NoError(t, err)
		e, err := decodeAnswer(msg)
		require.NoError(t, err)
		require.Equal(t, id, string(e.TxID))
		acked = append(acked, id)
	}
	require.NotEmpty(t, refused, "the budget was reached")
	require.NotEmpty(t, acked)
	require.ElementsMatch(t, acked, txids(g.walRecords(t)))
}

// TestCertificateReloadUnderLiveConnections renews the server certificate
// while a vehicle is connected: new connections get the new certificate,
// the old connection keeps streaming.
func TestCertificateReloadUnderLiveConnections(t *testing.T) {
	dir := t.TempDir()
	ca, err := devpki.LoadCA(devpki.Layout{Dir: certsDir(t)})
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	writeServerPair(t, ca, certFile, keyFile)
	g := startGateway(t, "config.json", func(c *config.Config) {
		c.TLS.ServerCert, c.TLS.ServerKey = certFile, keyFile
	})
	old := g.dial(t, "client")
	before := serverSerial(t, g)

	var renewed string
	require.Eventually(t, func() bool {
		renewed = writeServerPair(t, ca, certFile, keyFile)
		time.Sleep(500 * time.Millisecond)
		return serverSerial(t, g) == renewed
	}, 20*time.Second, 10*time.Millisecond)
	require.NotEqual(t, before, renewed)

	require.NoError(t, old.WriteMessage(websocket.BinaryMessage, vFrame(t, "after-reload", 4)))
	got, err := collect(t, old, 1)
	require.NoError(t, err)
	require.Len(t, got, 1, "the connection made before the reload still gets acks")
}

func writeServerPair(t *testing.T, ca *devpki.Authority, certFile, keyFile string) string {
	t.Helper()
	leaf, err := ca.Issue(devpki.ServerSpec())
	require.NoError(t, err)
	key, err := devpki.KeyPEM(leaf.Key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyFile+".tmp", key, 0o600))
	require.NoError(t, os.WriteFile(certFile+".tmp", devpki.CertPEM(leaf.Cert), 0o600))
	require.NoError(t, os.Rename(keyFile+".tmp", keyFile))
	require.NoError(t, os.Rename(certFile+".tmp", certFile))
	return leaf.Cert.SerialNumber.String()
}

func serverSerial(t *testing.T, g *gateway) string {
	t.Helper()
	cert := clientCert(t, "client")
	ws, _, err := dialer(t, &cert).DialContext(t.Context(), "wss://"+g.Addr()+"/", vehicleHeaders())
	require.NoError(t, err)
	defer ws.Close()
	tc, ok := ws.NetConn().(*tls.Conn)
	require.True(t, ok)
	return tc.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestWindowKeepsWireOrderInTheWAL sends a window of records without
// waiting for acks: the WAL holds them in the order they were sent, and
// the acks come back in that order too.
func TestWindowKeepsWireOrderInTheWAL(t *testing.T) {
	g := startGateway(t, "config.json", nil)
	ws := g.dial(t, "client")
	const n = 200
	var sent []string
	for i := range n {
		id := "win-" + itoa(i)
		sent = append(sent, id)
		require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, vFrame(t, id, 32)))
	}
	answers, err := collect(t, ws, n)
	require.NoError(t, err)
	var acked []string
	for _, a := range answers {
		e, derr := decodeAnswer(a)
		require.NoError(t, derr)
		acked = append(acked, string(e.TxID))
	}
	require.Equal(t, sent, acked, "acks in send order")
	require.Equal(t, sent, txids(vehicleRecords(g.walRecords(t))), "WAL in send order")
}

// TestReadyFollowsWALRefusals fills the WAL's disk budget: GET /ready on
// the status port answers 200 while records are stored and 503, naming the
// disk budget, once the WAL refuses them; /status stays "ok" (liveness).
func TestReadyFollowsWALRefusals(t *testing.T) {
	g := startGateway(t, "config.json", func(c *config.Config) {
		delete(c.Records, "connectivity")
		c.StatusPort = freePort(t)
		c.WAL.Partitions = 1
		c.WAL.SegmentSizeBytes = 64 << 10
		c.WAL.PreallocateBytes = -1 // the default (1 MiB) exceeds these small segments
		c.WAL.DiskBudgetBytes = 128 << 10
		c.Gateway.WALRetryDelay = config.Duration(300 * time.Millisecond)
	})
	ready := func() (int, string) {
		resp, err := http.Get("http://" + g.cfg.StatusAddr() + "/ready")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	code, body := ready()
	require.Equal(t, http.StatusOK, code, body)

	ws := g.dial(t, "client")
	refused := false
	for j := 0; j < 40 && !refused; j++ {
		require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, vFrame(t, txid(0, j), 8<<10)))
		require.NoError(t, ws.SetReadDeadline(time.Now().Add(3*time.Second)))
		_, _, err := ws.ReadMessage()
		if isTimeout(err) {
			refused = true
			break
		}
		require.NoError(t, err)
		code, body = ready()
		require.Equal(t, http.StatusOK, code, "record %d was acked: %s", j, body)
	}
	require.True(t, refused, "the budget was reached")
	code, body = ready()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "disk budget")
	require.Equal(t, "ok", httpGet(t, http.DefaultClient, "http://"+g.cfg.StatusAddr()+"/status"))
}
