package app_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// TestMetricsExposed checks the gateway's instruments after one stored
// record, one unconfigured topic and one refused identity: names carry the
// fleetrelay_gateway_ prefix and unit, labels are bounded (topic is a
// configured topic or "other"; never a VIN).
func TestMetricsExposed(t *testing.T) {
	g := startGateway(t, "config.json", nil)
	ws := g.dial(t, "client")
	require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, readVectorFile(t, "v_scalars.in.bin")))
	require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, readVectorFile(t, "wrong_topic_sender_ok.in.bin")))
	got, err := collect(t, ws, 2)
	require.NoError(t, err)
	require.Len(t, got, 2)
	cert := clientCert(t, "client_unknown")
	_, resp, err := dialer(t, &cert).DialContext(t.Context(), "wss://"+g.Addr()+"/", vehicleHeaders())
	require.Error(t, err)
	require.NoError(t, resp.Body.Close())

	body := scrape(t, g)
	require.NotContains(t, body, testVIN, "no VIN in any label")
	for _, tt := range []struct {
		name, series string
	}{
		{"acks_by_topic", `fleetrelay_gateway_acks_total{topic="V"} 1`},
		{"acks_other_topic", `fleetrelay_gateway_acks_total{topic="other"} 1`},
		{"connections", `fleetrelay_gateway_connections 1`},
		{"online", `fleetrelay_gateway_online_vehicles 1`},
		{"append_latency", `fleetrelay_gateway_wal_append_duration_seconds_count 1`},
		{"refused", `fleetrelay_gateway_refused_connections_total{reason="unknown_issuer"} 1`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, body, tt.series)
		})
	}
}

func scrape(t *testing.T, g *gateway) string {
	t.Helper()
	srv := httptest.NewServer(g.Metrics().Handler())
	defer srv.Close()
	return httpGet(t, http.DefaultClient, srv.URL)
}
