package main

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
	"github.com/fleetrelay/fleetrelay/test/ackserver"
)

func TestDialIdle(t *testing.T) {
	dir := t.TempDir()
	_, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: devpki.GeneratedVINs(3)})
	require.NoError(t, err)
	l := devpki.Layout{Dir: dir}
	cert, err := devpki.LoadKeyPair(l.ServerCert(), l.ServerKey())
	require.NoError(t, err)
	pool, err := devpki.CAPool(l.CACert())
	require.NoError(t, err)
	srv, err := ackserver.New(ackserver.Config{}, ackserver.ServerTLS(cert, pool), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.NoError(t, srv.Start("127.0.0.1:0"))
	defer func() { require.NoError(t, srv.Close()) }()

	var calls atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fleet, err := dialIdle(ctx, srv.URL(), dir, 3, func(open, failed int) { calls.Add(1) })
	require.NoError(t, err)
	require.Equal(t, 3, fleet.open())
	require.Equal(t, int64(3), calls.Load())
	require.NoError(t, fleet.lastErr())
	require.Eventually(t, func() bool { return srv.Stats().Connections == 3 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, fleet.close())
	require.Equal(t, 0, fleet.open())

	_, err = dialIdle(ctx, srv.URL(), dir, 4, func(int, int) {})
	require.ErrorContains(t, err, "has 3 vehicles")
}
