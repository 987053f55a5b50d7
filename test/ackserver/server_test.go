package ackserver_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/protos/envelope"
	"github.com/fleetrelay/fleetrelay/test/ackserver"
	"github.com/fleetrelay/fleetrelay/test/ackserver/ackservertest"
)

const vin = "5YJ3E1EA1KF000001"

func dial(t *testing.T, f *ackservertest.Fixture) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{TLSClientConfig: f.ClientTLS(f.Vehicle(t, vin)), HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.DialContext(t.Context(), f.URL(), nil)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func frame(txid string) []byte {
	return envelope.NewEncoder().Stream([]byte(txid), []byte("V"), []byte("m-"+txid), envelope.Stream{
		SenderID: []byte("vehicle_device." + vin), Payload: []byte{0x1a, 0x01, 0x41},
		DeviceType: []byte("vehicle_device"), DeviceID: []byte(vin), CreatedAt: 1700000000,
	})
}

// answers reads want frames, then checks that no further frame arrives
// within a short quiet period.
func answers(t *testing.T, conn *websocket.Conn, want int) []envelope.Envelope {
	t.Helper()
	var out []envelope.Envelope
	for i := 0; ; i++ {
		wait := 5 * time.Second
		if i >= want {
			wait = 200 * time.Millisecond
		}
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(wait)))
		_, data, err := conn.ReadMessage()
		var ne net.Error
		if i >= want && errors.As(err, &ne) && ne.Timeout() {
			return out
		}
		require.NoError(t, err, "answer %d of %d", i+1, want)
		var e envelope.Envelope
		if err := envelope.Decode(data, &e); err != nil {
			require.ErrorIs(t, err, envelope.ErrNotStream)
		}
		out = append(out, e)
	}
}

func TestAckBytesMatchReference(t *testing.T) {
	f := ackservertest.Start(t, ackserver.Config{})
	conn := dial(t, f)
	require.NoError(t, conn.WriteMessage(websocket.BinaryMessage, frame("demo-V")))
	_, got, err := conn.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, envelope.NewEncoder().Ack([]byte("demo-V"), []byte("V")), got)
}

func TestFaultOptions(t *testing.T) {
	tests := []struct {
		name       string
		cfg        ackserver.Config
		wantAcked  []string
		wantErrors []string
	}{
		{name: "ack_all", wantAcked: []string{"t1", "t2", "t3", "t4", "t5", "t6"}},
		{name: "drop_first_2", cfg: ackserver.Config{DropFirst: 2}, wantAcked: []string{"t3", "t4", "t5", "t6"}},
		{name: "drop_every_3rd", cfg: ackserver.Config{DropEvery: 3}, wantAcked: []string{"t1", "t2", "t4", "t5"}},
		{name: "drop_first_then_every_2nd", cfg: ackserver.Config{DropFirst: 1, DropEvery: 2},
			wantAcked: []string{"t2", "t4", "t6"}},
		{name: "reject_every_2nd", cfg: ackserver.Config{RejectEvery: 2},
			wantAcked: []string{"t1", "t3", "t5"}, wantErrors: []string{"t2", "t4", "t6"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ackservertest.Start(t, tc.cfg)
			conn := dial(t, f)
			for _, txid := range []string{"t1", "t2", "t3", "t4", "t5", "t6"} {
				require.NoError(t, conn.WriteMessage(websocket.BinaryMessage, frame(txid)))
			}
			var acked, rejected []string
			for _, e := range answers(t, conn, len(tc.wantAcked)+len(tc.wantErrors)) {
				if e.Type == envelope.TypeStreamAck {
					require.Equal(t, "V", string(e.Topic))
					acked = append(acked, string(e.TxID))
					continue
				}
				require.Equal(t, envelope.ErrorText, string(e.Stream.Payload))
				rejected = append(rejected, string(e.TxID))
			}
			require.Equal(t, tc.wantAcked, acked)
			require.Equal(t, tc.wantErrors, rejected)
			st := f.Server.Stats()
			require.Equal(t, int64(6), st.Frames)
			require.Equal(t, int64(len(acked)), st.Acks)
			require.Equal(t, int64(6-len(acked)-len(rejected)), st.Dropped)
		})
	}
}

func TestGarbageGetsErrorFrame(t *testing.T) {
	f := ackservertest.Start(t, ackserver.Config{})
	conn := dial(t, f)
	require.NoError(t, conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}))
	_, got, err := conn.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, envelope.NewEncoder().Error(nil, envelope.ErrorText), got)
	require.Equal(t, int64(1), f.Server.Stats().Rejected)
}

func TestConnectionEnds(t *testing.T) {
	tests := []struct {
		name string
		cfg  ackserver.Config
		act  func(*ackservertest.Fixture, *websocket.Conn) error
	}{
		{name: "text_message", act: func(_ *ackservertest.Fixture, c *websocket.Conn) error {
			return c.WriteMessage(websocket.TextMessage, []byte("hello"))
		}},
		{name: "close_after_2", cfg: ackserver.Config{CloseAfter: 2}, act: func(_ *ackservertest.Fixture, c *websocket.Conn) error {
			return errors.Join(c.WriteMessage(websocket.BinaryMessage, frame("a")), c.WriteMessage(websocket.BinaryMessage, frame("b")))
		}},
		{name: "close_connections", act: func(f *ackservertest.Fixture, _ *websocket.Conn) error {
			f.Server.CloseConnections()
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ackservertest.Start(t, tc.cfg)
			conn := dial(t, f)
			require.Eventually(t, func() bool { return f.Server.Stats().Active == 1 }, 2*time.Second, 5*time.Millisecond)
			require.NoError(t, tc.act(f, conn))
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
			for {
				_, msg, err := conn.ReadMessage()
				if err != nil {
					var ne net.Error
					require.False(t, errors.As(err, &ne) && ne.Timeout(), "connection was not closed")
					break
				}
				require.NotEmpty(t, msg)
			}
			require.Eventually(t, func() bool { return f.Server.Stats().Active == 0 }, 2*time.Second, 5*time.Millisecond)
		})
	}
}

func TestClientCertificateRequired(t *testing.T) {
	f := ackservertest.Start(t, ackserver.Config{})
	other := ackservertest.Start(t, ackserver.Config{})
	tests := []struct {
		name string
		dial websocket.Dialer
	}{
		{name: "no_certificate", dial: websocket.Dialer{TLSClientConfig: f.ClientTLS(f.Vehicle(t, vin))}},
		{name: "other_ca", dial: websocket.Dialer{TLSClientConfig: f.ClientTLS(other.Vehicle(t, vin))}},
	}
	tests[0].dial.TLSClientConfig.Certificates = nil
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, resp, err := tc.dial.DialContext(t.Context(), f.URL(), nil)
			if resp != nil {
				_ = resp.Body.Close()
			}
			if err == nil {
				// TLS 1.3 reports the client certificate rejection on the first read.
				_, _, err = conn.ReadMessage()
				_ = conn.Close()
			}
			require.Error(t, err)
			require.Zero(t, f.Server.Stats().Frames)
		})
	}
}

func TestRestartKeepsAddress(t *testing.T) {
	f := ackservertest.Start(t, ackserver.Config{})
	url := f.URL()
	f.Restart(t, ackserver.Config{})
	require.Equal(t, url, f.URL())
	conn := dial(t, f)
	require.NoError(t, conn.WriteMessage(websocket.BinaryMessage, frame("x")))
	_, _, err := conn.ReadMessage()
	require.NoError(t, err)
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, ackserver.Config{}.Validate())
	require.Error(t, ackserver.Config{DropEvery: -1}.Validate())
	require.Error(t, ackserver.Config{ReadLimit: -1}.Validate())
	_, err := ackserver.New(ackserver.Config{}, nil, nil)
	require.Error(t, err)
}
