package app_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/gateway/internal/session"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

func TestFrameOverReadLimitClosesWith1009(t *testing.T) {
	g := startGateway(t, "config.json", nil)
	ws := g.dial(t, "client")
	require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, make([]byte, session.ReadLimit+1)))
	got, err := collect(t, ws, 0)
	require.Empty(t, got)
	require.True(t, websocket.IsCloseError(err, websocket.CloseMessageTooBig), "got %v", err)
}

func TestIdleConnectionIsClosed(t *testing.T) {
	g := startGateway(t, "config.json", func(c *config.Config) {
		c.Gateway.IdleTimeout = config.Duration(600 * time.Millisecond)
	})
	ws := g.dial(t, "client")
	// Answering no pings: a client that reads nothing never sends pongs.
	ws.SetPingHandler(func(string) error { return nil })
	start := time.Now()
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, _, err := ws.ReadMessage()
	require.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "got %v", err)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestPongsKeepConnectionOpen(t *testing.T) {
	g := startGateway(t, "config.json", func(c *config.Config) {
		c.Gateway.IdleTimeout = config.Duration(600 * time.Millisecond)
	})
	ws := g.dial(t, "client") // gorilla's default ping handler answers pongs
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(2*time.Second)))
	_, _, err := ws.ReadMessage()
	var ne net.Error
	require.ErrorAs(t, err, &ne, "only the client's own deadline ends the read")
	require.True(t, ne.Timeout())
}

func TestSlowHeadersAreCutOff(t *testing.T) {
	g := startGateway(t, "config.json", func(c *config.Config) {
		c.Gateway.ReadHeaderTimeout = config.Duration(500 * time.Millisecond)
	})
	cert := clientCert(t, "client")
	conn, err := tls.Dial("tcp", g.Addr(), &tls.Config{RootCAs: serverRoots(t), ServerName: "localhost",
		Certificates: []tls.Certificate{cert}})
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	// A slowloris client: one header byte at a time, never finishing.
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n")
	require.NoError(t, err)
	for err == nil && time.Since(start) < 10*time.Second {
		time.Sleep(100 * time.Millisecond)
		_, err = io.WriteString(conn, "X")
		if err == nil {
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Millisecond)))
			_, rerr := conn.Read(make([]byte, 1))
			if rerr != nil && !isTimeout(rerr) {
				err = rerr
			}
		}
	}
	require.Error(t, err)
	require.Less(t, time.Since(start), 5*time.Second, "cut off after read_header_timeout")
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestMaxConnections(t *testing.T) {
	g := startGateway(t, "config.json", func(c *config.Config) { c.Gateway.MaxConnections = 2 })
	g.dial(t, "client")
	g.dial(t, "client")
	cert := clientCert(t, "client")
	_, resp, err := dialer(t, &cert).DialContext(t.Context(), "wss://"+g.Addr()+"/", vehicleHeaders())
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.NoError(t, resp.Body.Close())
}

func TestStatusEndpoints(t *testing.T) {
	g := startGateway(t, "config.json", func(c *config.Config) { c.StatusPort = freePort(t) })
	cert := clientCert(t, "client")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: serverRoots(t), ServerName: "localhost", Certificates: []tls.Certificate{cert}}}}
	require.Equal(t, "mtls ok", httpGet(t, client, "https://"+g.Addr()+"/status"))
	require.Equal(t, "ok", httpGet(t, http.DefaultClient, "http://"+g.cfg.StatusAddr()+"/status"))
	require.True(t, strings.HasPrefix(g.cfg.StatusAddr(), "127.0.0.1:"), "status binds host, not every interface")

	// A plain GET on the websocket path without upgrade headers: 400 as the
	// reference (after the identity check).
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+g.Addr()+"/", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, "13", resp.Header.Get("Sec-Websocket-Version"))
}

func TestHandshakeWithoutClientCertFails(t *testing.T) {
	g := startGateway(t, "config.json", nil)
	_, _, err := dialer(t, nil).DialContext(t.Context(), "wss://"+g.Addr()+"/", vehicleHeaders())
	require.Error(t, err)
}

func httpGet(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(bytes.TrimSpace(b))
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
