package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
	"github.com/fleetrelay/fleetrelay/shared/vehicleconfig"
)

// files writes a root CA, an unrelated CA and a server chain for
// telemetry.example.net into a temporary directory.
func files(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	root, err := devpki.NewCA(devpki.CASpec{CommonName: "Test Root"})
	require.NoError(t, err)
	other, err := devpki.NewCA(devpki.CASpec{CommonName: "Other Root"})
	require.NoError(t, err)
	server, err := root.Issue(devpki.ServerSpec("telemetry.example.net"))
	require.NoError(t, err)
	write := func(name string, b []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	write("ca.pem", devpki.CertPEM(root.Cert))
	write("other.pem", devpki.CertPEM(other.Cert))
	write("server.pem", devpki.CertPEM(server.Cert))
	return dir
}

func TestRun(t *testing.T) {
	dir := files(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	good := p("good.json")
	code := run(context.Background(), []string{"write", "-hostname", "telemetry.example.net", "-ca", p("ca.pem"),
		"-fields", "VehicleSpeed=10,Location=30", "-o", good}, new(bytes.Buffer), new(bytes.Buffer))
	require.Equal(t, exitOK, code)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantStderr string
	}{
		{name: "no command", args: nil, wantCode: exitUsage, wantStderr: "usage:"},
		{name: "unknown command", args: []string{"send"}, wantCode: exitUsage, wantStderr: `unknown command "send"`},
		{name: "write to stdout", args: []string{"write", "-hostname", "telemetry.example.net", "-ca", p("ca.pem"),
			"-fields", "VehicleSpeed=10", "-minimum-delta", "VehicleSpeed=0.5", "-resend-interval", "VehicleSpeed=300",
			"-prefer-typed", "-delivery-policy", "latest", "-expires-in", "720h", "-server-cert", p("server.pem")},
			wantCode: exitOK, wantOut: `"minimum_delta": 0.5`},
		{name: "write request body", args: []string{"write", "-hostname", "telemetry.example.net", "-ca", p("ca.pem"),
			"-fields", "Soc=60", "-vins", "5YJ3E1EA1KF000001"}, wantCode: exitOK, wantOut: `"vins": [`},
		{name: "write unknown field", args: []string{"write", "-hostname", "telemetry.example.net", "-ca", p("ca.pem"),
			"-fields", "Speed=10"}, wantCode: exitInvalid, wantStderr: "error: fields.Speed: unknown field name"},
		{name: "write zero interval", args: []string{"write", "-hostname", "telemetry.example.net", "-ca", p("ca.pem"),
			"-fields", "Soc=0"}, wantCode: exitInvalid, wantStderr: "fields.Soc.interval_seconds: 0: must be at least 1"},
		{name: "write interval not a number", args: []string{"write", "-hostname", "h.example.net", "-ca", p("ca.pem"),
			"-fields", "Soc=1m"}, wantCode: exitUsage, wantStderr: "whole number of seconds"},
		{name: "write delta for a field not listed", args: []string{"write", "-hostname", "h.example.net", "-ca", p("ca.pem"),
			"-fields", "Soc=60", "-minimum-delta", "Odometer=1"}, wantCode: exitUsage, wantStderr: "Odometer is not in -fields"},
		{name: "write wrong CA", args: []string{"write", "-hostname", "telemetry.example.net", "-ca", p("other.pem"),
			"-fields", "Soc=60", "-server-cert", p("server.pem")}, wantCode: exitInvalid, wantStderr: "error: ca: does not verify the server certificate"},
		{name: "write missing flags", args: []string{"write", "-hostname", "h.example.net"}, wantCode: exitUsage, wantStderr: "-ca and -fields are required"},
		{name: "write exclusive flags", args: []string{"write", "-hostname", "h", "-ca", p("ca.pem"), "-fields", "Soc=1",
			"-server-cert", p("server.pem"), "-fetch"}, wantCode: exitUsage, wantStderr: "exclusive"},
		{name: "check good", args: []string{"check", good, "-server-cert", p("server.pem")}, wantCode: exitOK,
			wantOut: "ok: 2 fields; the CA verifies the server certificate for telemetry.example.net"},
		{name: "check without server", args: []string{"check", good}, wantCode: exitOK, wantOut: "not checked against a server certificate"},
		{name: "check hostname not in cert", args: []string{"check", writeDoc(t, dir, "other-host.json", func(c *vehicleconfig.Config) {
			c.Hostname = "other.example.net"
		}), "-server-cert", p("server.pem")}, wantCode: exitInvalid, wantStderr: `error: hostname: "other.example.net" is not in the server certificate's names`},
		{name: "check type error", args: []string{"check", writeRaw(t, dir, "port.json", `{"hostname":"h","port":"443"}`)},
			wantCode: exitInvalid, wantStderr: "port: JSON string where an integer is required"},
		{name: "check warnings only", args: []string{"check", writeDoc(t, dir, "policy.json", func(c *vehicleconfig.Config) {
			c.DeliveryPolicy = "sometimes"
		})}, wantCode: exitOK, wantStderr: "warning: delivery_policy"},
		{name: "check two files", args: []string{"check", good, good}, wantCode: exitUsage, wantStderr: "want exactly one FILE"},
		{name: "check missing file", args: []string{"check", p("nope.json")}, wantCode: exitInvalid, wantStderr: "no such file"},
		{name: "connect without fetch", args: []string{"check", good, "-connect", "127.0.0.1:1"}, wantCode: exitUsage, wantStderr: "-connect needs -fetch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			got := run(context.Background(), tt.args, &out, &errOut)
			require.Equal(t, tt.wantCode, got, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
			require.Contains(t, out.String(), tt.wantOut)
			require.Contains(t, errOut.String(), tt.wantStderr)
			if tt.wantCode == exitOK && strings.HasPrefix(strings.TrimSpace(out.String()), "{") {
				doc, err := vehicleconfig.Parse(out.Bytes())
				require.NoError(t, err)
				require.Empty(t, doc.UnknownKeys)
			}
		})
	}
}

func writeRaw(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// writeDoc writes the configuration of good.json edited by edit.
func writeDoc(t *testing.T, dir, name string, edit func(*vehicleconfig.Config)) string {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	require.NoError(t, err)
	c := vehicleconfig.Config{Hostname: "telemetry.example.net", CA: string(ca),
		Fields: map[string]vehicleconfig.Field{"Soc": {IntervalSeconds: 60}}}
	edit(&c)
	b, err := vehicleconfig.Marshal(c, nil)
	require.NoError(t, err)
	return writeRaw(t, dir, name, string(b))
}
