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
	vins := []string{"5YJ3E1EA1KF000001", "5YJ3E1EA3KF000002", "5YJ3E1EA5KF000003"}
	for i, v := range vins {
		// devpki validates the check digit; take whatever VINs it accepts.
		if devpki.ValidateVIN(v) != nil {
			vins[i] = ""
		}
	}
	_, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: validVINs(t, 3)})
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

// validVINs returns n VINs with correct check digits.
func validVINs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for i := 1; len(out) < n && i < 1000; i++ {
		for d := '0'; d <= '9'; d++ {
			v := "5YJ3E1EA" + string(d) + "KF" + padSerial(i)
			if devpki.ValidateVIN(v) == nil {
				out = append(out, v)
				break
			}
		}
	}
	require.Len(t, out, n)
	return out
}

func padSerial(i int) string {
	s := "000000" + itoa(i)
	return s[len(s)-6:]
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
