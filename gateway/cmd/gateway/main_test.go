package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

func TestRunRejectsBadInvocations(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"tls":{"server_cert":"a","server_key":"b"},"prot":1}`), 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown_flag", []string{"-nope"}, "flag provided but not defined"},
		{"missing_file", []string{"-config", filepath.Join(dir, "missing.json")}, "no such file"},
		{"unknown_key", []string{"-config", bad}, "prot: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			require.Equal(t, 2, run(t.Context(), tt.args, &stderr))
			require.Contains(t, stderr.String(), tt.want)
		})
	}
}

func TestRunFailsWhenCertificateIsMissing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	doc := fmt.Sprintf(`{"host":"127.0.0.1","port":0,"tls":{"server_cert":"missing.crt","server_key":"missing.key"},
		"records":{"V":["logger"]},"wal":{"dir":%q}}`, filepath.Join(dir, "wal"))
	require.NoError(t, os.WriteFile(cfg, []byte(doc), 0o600))
	var stderr bytes.Buffer
	require.Equal(t, 1, run(t.Context(), []string{"-config", cfg}, &stderr))
	require.Contains(t, stderr.String(), "startup_failed")
}

// TestSIGTERM runs the real binary with a reference config, streams a
// vehicle, sends SIGTERM, and expects a going-away close frame, every ack
// delivered before it, and exit code 0 well within 25 s.
func TestSIGTERM(t *testing.T) {
	conf := testenv.ConformanceDir(t)
	bin := filepath.Join(t.TempDir(), "gateway")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	port := freePort(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.json")
	doc := fmt.Sprintf(`{"host":"127.0.0.1","port":%d,"log_level":"info","json_log_enable":true,
		"records":{"V":["logger"],"connectivity":["logger"]},
		"tls":{"ca_file":%q,"server_cert":%q,"server_key":%q},
		"wal":{"dir":%q},"gateway":{"shutdown_timeout":"20s"}}`, port,
		filepath.Join(conf, "certs", "client_ca_bundle.crt"), filepath.Join(conf, "certs", "server.crt"),
		filepath.Join(conf, "certs", "server.key"), filepath.Join(dir, "wal"))
	require.NoError(t, os.WriteFile(cfgPath, []byte(doc), 0o600))

	var logs bytes.Buffer
	cmd := exec.CommandContext(t.Context(), bin, "-config", cfgPath)
	cmd.Stderr = &logs
	require.NoError(t, cmd.Start())
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitListening(t, addr)

	ws := dialVehicle(t, conf, addr)
	frame, err := os.ReadFile(filepath.Join(conf, "v_scalars.in.bin"))
	require.NoError(t, err)
	require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, frame))
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, ack, err := ws.ReadMessage()
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(conf, "v_scalars.out.bin"))
	require.NoError(t, err)
	require.Equal(t, want, ack)

	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	_, _, err = ws.ReadMessage()
	require.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "got %v", err)
	require.NoError(t, ws.Close())
	require.NoError(t, cmd.Wait(), logs.String())
	require.Less(t, time.Since(start), 25*time.Second)
	require.Contains(t, logs.String(), "shutdown_finished")
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}, 20*time.Second, 50*time.Millisecond)
}

func dialVehicle(t *testing.T, conf, addr string) *websocket.Conn {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(conf, "certs", "client.crt"), filepath.Join(conf, "certs", "client.key"))
	require.NoError(t, err)
	pem, err := os.ReadFile(filepath.Join(conf, "certs", "ca.crt"))
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pem))
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: &tls.Config{
		RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{cert}}}
	h := http.Header{}
	h.Set("X-Network-Interface", "wifi")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, resp, err := d.DialContext(ctx, "wss://"+addr+"/", h)
	if err != nil && resp != nil {
		err = errors.Join(err, fmt.Errorf("status %d", resp.StatusCode))
	}
	require.NoError(t, err)
	return ws
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
