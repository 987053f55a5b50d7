package app_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/gateway/internal/app"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/shared/obs"
	"github.com/fleetrelay/fleetrelay/wal"
)

// silence is how long the client waits for more answers, as the vectors'
// recorder did.
const silence = 400 * time.Millisecond

type gateway struct {
	*app.App
	cfg *config.Config
}

// startGateway runs the gateway with one of the reference server configs
// from the conformance folder, on a free port and a fresh WAL.
func startGateway(t *testing.T, serverConfig string, mutate func(*config.Config)) *gateway {
	t.Helper()
	// The reference configs name their certificates relative to the
	// conformance folder, the reference server's working directory.
	t.Chdir(conformanceDir(t))
	cfg, _, err := config.Load(filepath.Join(conformanceDir(t), "server_configs", serverConfig))
	require.NoError(t, err)
	cfg.Port = 0
	cfg.Monitoring = nil
	cfg.WAL.Dir = t.TempDir()
	cfg.WAL.Partitions = 2
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	log, err := obs.NewLogger(io.Discard, "debug", true)
	require.NoError(t, err)
	if testing.Verbose() {
		log, _ = obs.NewLogger(os.Stderr, "debug", false)
	}
	a, err := app.Start(cfg, log)
	require.NoError(t, err)
	g := &gateway{App: a, cfg: cfg}
	t.Cleanup(func() { g.stop(t) })
	return g
}

func (g *gateway) stop(t *testing.T) {
	t.Helper()
	select {
	case <-g.Done():
		return // already stopped by the test
	default:
	}
	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	require.NoError(t, g.Shutdown(ctx))
}

func certsDir(t *testing.T) string { return filepath.Join(conformanceDir(t), "certs") }

func serverRoots(t *testing.T) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(certsDir(t), "ca.crt"))
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	return pool
}

func clientCert(t *testing.T, name string) tls.Certificate {
	t.Helper()
	dir := certsDir(t)
	c, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"))
	require.NoError(t, err)
	return c
}

func dialer(t *testing.T, cert *tls.Certificate) *websocket.Dialer {
	t.Helper()
	cfg := &tls.Config{RootCAs: serverRoots(t), ServerName: "localhost"}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &websocket.Dialer{TLSClientConfig: cfg, HandshakeTimeout: 5 * time.Second}
}

func vehicleHeaders() http.Header {
	h := http.Header{}
	h.Set("X-Network-Interface", "wifi")
	h.Set("Version", "1.2.0")
	return h
}

// dial opens a vehicle websocket with the named conformance certificate.
func (g *gateway) dial(t *testing.T, certName string) *websocket.Conn {
	t.Helper()
	cert := clientCert(t, certName)
	ws, resp, err := dialer(t, &cert).DialContext(t.Context(), "wss://"+g.Addr()+"/", vehicleHeaders())
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// answerWait bounds the wait for each expected answer; a 1 MB frame under
// the race detector on a busy machine takes far longer than silence.
const answerWait = 10 * time.Second

// collect reads answers until silence, waiting up to answerWait for each of
// the first expect ones. It returns them and the read error that ended the
// collection (nil on silence).
func collect(t *testing.T, ws *websocket.Conn, expect int) ([][]byte, error) {
	t.Helper()
	var out [][]byte
	for {
		wait := silence
		if len(out) < expect {
			wait = answerWait
		}
		require.NoError(t, ws.SetReadDeadline(time.Now().Add(wait)))
		mt, msg, err := ws.ReadMessage()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		require.Equal(t, websocket.BinaryMessage, mt)
		out = append(out, msg)
	}
}

// walRecords reads every durable record of the gateway's WAL.
func (g *gateway) walRecords(t *testing.T) []*walpb.Record {
	t.Helper()
	var out []*walpb.Record
	for p := range g.cfg.WAL.Partitions {
		r, err := wal.OpenReader(g.cfg.WAL.Dir, p, 0)
		require.NoError(t, err)
		for {
			e, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			rec := &walpb.Record{}
			require.NoError(t, proto.Unmarshal(e.Data, rec))
			out = append(out, rec)
		}
		require.NoError(t, r.Close())
	}
	return out
}

// vehicleRecords drops the gateway-generated connectivity records.
func vehicleRecords(recs []*walpb.Record) []*walpb.Record {
	var out []*walpb.Record
	for _, r := range recs {
		if !r.GetGenerated() {
			out = append(out, r)
		}
	}
	return out
}
