package ingest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/shared/record"
)

func TestConnectivity(t *testing.T) {
	tests := []struct {
		name   string
		status vehiclepb.ConnectivityEvent
	}{
		{name: "connected", status: vehiclepb.ConnectivityEvent_CONNECTED},
		{name: "disconnected", status: vehiclepb.ConnectivityEvent_DISCONNECTED},
	}
	p := newProcessor(t, ingest.Config{Topics: []string{"V", "connectivity"}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := p.Connectivity(testConn(), tt.status, testNow)
			require.NotNil(t, rec)
			require.Equal(t, testVIN, rec.GetVin())
			require.Equal(t, "connectivity", rec.GetTopic())
			require.Equal(t, []byte("conn-1"), rec.GetTxid())
			require.Equal(t, "conn-1", rec.GetConnectionId())
			require.Equal(t, "cellular", rec.GetNetworkInterface())
			require.Equal(t, "1.2.0", rec.GetDeviceClientVersion())
			require.Equal(t, "vehicle_device", rec.GetClientType())
			require.Equal(t, testNow.UnixMilli(), rec.GetReceivedAtMs())
			require.True(t, rec.GetGenerated())

			msg, err := record.Unmarshal("connectivity", rec.GetPayload())
			require.NoError(t, err)
			want := &vehiclepb.VehicleConnectivity{Vin: testVIN, ConnectionId: "conn-1", Status: tt.status,
				CreatedAt: timestamppb.New(testNow), NetworkInterface: "cellular"}
			require.True(t, proto.Equal(want, msg), "got %v", msg)
		})
	}
}

// The rendering matches the reference's connectivity records (see the
// connectivity_from_vehicle vector for the field set and names).
func TestConnectivityDecodedJSON(t *testing.T) {
	p := newProcessor(t, ingest.Config{Topics: []string{"connectivity"}})
	rec := p.Connectivity(testConn(), vehiclepb.ConnectivityEvent_CONNECTED, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	js, err := record.DecodedJSON(rec.GetTopic(), rec.GetPayload())
	require.NoError(t, err)
	require.JSONEq(t, `{"vin":"`+testVIN+`","connectionId":"conn-1","status":"CONNECTED","createdAt":"2024-01-01T00:00:00Z","networkInterface":"cellular"}`, string(js))
}

func TestConnectivityNotConfigured(t *testing.T) {
	p := newProcessor(t, ingest.Config{Topics: []string{"V"}})
	require.Nil(t, p.Connectivity(testConn(), vehiclepb.ConnectivityEvent_CONNECTED, testNow))
}
