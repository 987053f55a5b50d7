package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{name: "pki_dir", args: []string{"-pki", "/x"}},
		{name: "explicit_files", args: []string{"-cert", "a", "-key", "b", "-ca", "c", "-drop-every", "3"}},
		{name: "no_certificates", args: []string{"-addr", ":0"}, wantErr: true},
		{name: "negative_option", args: []string{"-pki", "/x", "-drop-first", "-1"}, wantErr: true},
		{name: "extra_argument", args: []string{"-pki", "/x", "more"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	vin := devpki.GeneratedVINs(1)[0]
	_, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: []string{vin}})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-pki", dir, "-addr", "127.0.0.1:0"}, &out) }()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	require.Contains(t, out.String(), "listening on wss://127.0.0.1:")
	require.Contains(t, out.String(), "connections=0 frames=0 acks=0")
}
