package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run([]string{"-dir", dir, "-hosts", "gw.example", "-vins", "5YJ3E1EA1KF000001", "-vehicles", "2"}, &out))
	require.Contains(t, out.String(), "3 vehicles, 10 files written")

	vins, err := devpki.VehicleVINs(devpki.Layout{Dir: dir})
	require.NoError(t, err)
	require.Equal(t, append([]string{"5YJ3E1EA1KF000001"}, devpki.GeneratedVINs(2)...), vins)

	out.Reset()
	require.NoError(t, run([]string{"-dir", dir, "-vehicles", "2"}, &out))
	require.Contains(t, out.String(), "0 files written")
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "no_dir", args: []string{"-vehicles", "1"}},
		{name: "bad_vin", args: []string{"-dir", "x", "-vins", "NOTAVIN"}},
		{name: "negative_count", args: []string{"-dir", "x", "-vehicles", "-1"}},
		{name: "extra_argument", args: []string{"-dir", "x", "extra"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Error(t, run(tc.args, &bytes.Buffer{}))
		})
	}
}
