package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
	"github.com/fleetrelay/fleetrelay/test/ackserver"
	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
)

// startAckServer serves the PKI directory's server certificate.
func startAckServer(t *testing.T, dir string) *ackserver.Server {
	t.Helper()
	l := devpki.Layout{Dir: dir}
	cert, err := devpki.LoadKeyPair(l.ServerCert(), l.ServerKey())
	require.NoError(t, err)
	pool, err := devpki.CAPool(l.CACert())
	require.NoError(t, err)
	srv, err := ackserver.New(ackserver.Config{}, ackserver.ServerTLS(cert, pool), nil)
	require.NoError(t, err)
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func TestRunAgainstAckServer(t *testing.T) {
	dir := t.TempDir()
	_, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: devpki.GeneratedVINs(3)})
	require.NoError(t, err)
	srv := startAckServer(t, dir)
	acked := filepath.Join(t.TempDir(), "acked.tsv")

	var stdout, stderr bytes.Buffer
	err = run(t.Context(), []string{"-url", srv.URL(), "-pki", dir, "-vehicles", "2", "-window", "4",
		"-duration", "600ms", "-report-interval", "200ms", "-json", "-acked-file", acked, "-topics", "V=8,alerts=1,errors=1"},
		&stdout, &stderr)
	require.NoError(t, err, stderr.String())

	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.GreaterOrEqual(t, len(lines), 2, "progress and final reports")
	var final vehiclesim.Report
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &final))
	require.True(t, final.Final)
	require.Equal(t, 2, final.Vehicles)
	require.Positive(t, final.Acked)
	require.Equal(t, srv.Stats().Acks, final.Acked)

	logged, err := vehiclesim.ReadAckLog(acked)
	require.NoError(t, err)
	require.Len(t, logged, int(final.Acked))
	vins := devpki.GeneratedVINs(2)
	for _, a := range logged {
		require.Contains(t, vins, a.VIN)
	}
}

func TestRunSingleVehicleText(t *testing.T) {
	dir := t.TempDir()
	vin := devpki.GeneratedVINs(1)[0]
	_, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: []string{vin}})
	require.NoError(t, err)
	srv := startAckServer(t, dir)
	l := devpki.Layout{Dir: dir}

	var stdout, stderr bytes.Buffer
	err = run(t.Context(), []string{"-url", srv.URL(), "-cert", l.VehicleCert(vin), "-key", l.VehicleKey(vin),
		"-ca", l.CACert(), "-duration", "200ms", "-txid-prefix", "one"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	require.True(t, strings.HasPrefix(stdout.String(), "final "), stdout.String())
	require.Contains(t, stdout.String(), "vehicles=1 ")
}

func TestRunRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	_, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: devpki.GeneratedVINs(1)})
	require.NoError(t, err)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no_identity", args: []string{}, want: "-pki"},
		{name: "too_many_vehicles", args: []string{"-pki", dir, "-vehicles", "5"}, want: "has 1 vehicles"},
		{name: "bad_topics", args: []string{"-pki", dir, "-topics", "V=1,x=2"}, want: "unknown topic"},
		{name: "bad_window", args: []string{"-pki", dir, "-window", "0"}, want: "window"},
		{name: "missing_cert_file", args: []string{"-cert", filepath.Join(dir, "nope.crt"), "-key", "x"}, want: "nope.crt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(t.Context(), tc.args, &bytes.Buffer{}, &bytes.Buffer{})
			require.ErrorContains(t, err, tc.want)
		})
	}
}
