package tlsconfig_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/gateway/internal/tlsconfig"
	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

func TestTeslaBundles(t *testing.T) {
	tests := []struct {
		name  string
		eng   bool
		certs int
	}{
		{"prod", false, 14},
		{"eng", true, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			rest := tlsconfig.TeslaBundle(tt.eng)
			for {
				var block *pem.Block
				block, rest = pem.Decode(rest)
				if block == nil {
					break
				}
				_, err := x509.ParseCertificate(block.Bytes)
				require.NoError(t, err)
				n++
			}
			require.Equal(t, tt.certs, n)
		})
	}
}

func TestClientPool(t *testing.T) {
	dir := t.TempDir()
	ca, err := devpki.NewCA(devpki.CASpec{CommonName: devpki.VehicleIssuerCN})
	require.NoError(t, err)
	caFile := filepath.Join(dir, "ca.crt")
	require.NoError(t, os.WriteFile(caFile, devpki.CertPEM(ca.Cert), 0o600))
	leaf, err := ca.Issue(devpki.VehicleSpec("5YJ3E1EA1KF000001"))
	require.NoError(t, err)

	pool, err := tlsconfig.ClientPool(false, caFile)
	require.NoError(t, err)
	_, err = tlsconfig.VerifyClient([]*x509.Certificate{leaf.Cert}, pool)
	require.NoError(t, err)

	teslaOnly, err := tlsconfig.ClientPool(true, "")
	require.NoError(t, err)
	_, err = tlsconfig.VerifyClient([]*x509.Certificate{leaf.Cert}, teslaOnly)
	require.Error(t, err)

	_, err = tlsconfig.ClientPool(false, filepath.Join(dir, "missing.crt"))
	require.ErrorIs(t, err, os.ErrNotExist)
	empty := filepath.Join(dir, "empty.crt")
	require.NoError(t, os.WriteFile(empty, []byte("nothing"), 0o600))
	_, err = tlsconfig.ClientPool(false, empty)
	require.ErrorContains(t, err, "no PEM certificate")
}

type fixture struct {
	ca       *devpki.Authority
	certFile string
	keyFile  string
	reloader *tlsconfig.CertReloader
	addr     string
}

func writePair(t *testing.T, ca *devpki.Authority, certFile, keyFile string) *x509.Certificate {
	t.Helper()
	leaf, err := ca.Issue(devpki.ServerSpec())
	require.NoError(t, err)
	key, err := devpki.KeyPEM(leaf.Key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyFile+".tmp", key, 0o600))
	require.NoError(t, os.WriteFile(certFile+".tmp", devpki.CertPEM(leaf.Cert), 0o600))
	require.NoError(t, os.Rename(keyFile+".tmp", keyFile))
	require.NoError(t, os.Rename(certFile+".tmp", certFile))
	return leaf.Cert
}

// serve runs a TLS echo server with the package's config.
func serve(t *testing.T, onReload func(error)) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{certFile: filepath.Join(dir, "server.crt"), keyFile: filepath.Join(dir, "server.key")}
	var err error
	f.ca, err = devpki.NewCA(devpki.CASpec{CommonName: devpki.VehicleIssuerCN})
	require.NoError(t, err)
	writePair(t, f.ca, f.certFile, f.keyFile)
	f.reloader, err = tlsconfig.NewCertReloader(f.certFile, f.keyFile, nil, onReload)
	require.NoError(t, err)
	cfg := tlsconfig.Server(tlsconfig.Options{Certs: f.reloader, ClientRoots: f.ca.Pool()})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	f.addr = ln.Addr().String()
	go acceptEcho(ln)
	return f
}

func acceptEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 16)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
	}
}

func (f *fixture) client(t *testing.T, cert *tls.Certificate, mutate func(*tls.Config)) *tls.Config {
	t.Helper()
	cfg := &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost"}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	if mutate != nil {
		mutate(cfg)
	}
	return cfg
}

func roundTrip(t *testing.T, addr string, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	d := tls.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 5 * time.Second}}
	nc, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := nc.(*tls.Conn)
	// TLS 1.3 reports a refused client certificate on the first read.
	if _, err := c.Write([]byte("x")); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.Read(make([]byte, 1)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func TestHandshake(t *testing.T) {
	f := serve(t, nil)
	vehicle, err := f.ca.Issue(devpki.VehicleSpec("5YJ3E1EA1KF000001"))
	require.NoError(t, err)
	good := vehicle.TLSCertificate()
	other, err := devpki.NewCA(devpki.CASpec{CommonName: devpki.VehicleIssuerCN})
	require.NoError(t, err)
	stranger, err := other.Issue(devpki.VehicleSpec("5YJ3E1EA1KF000001"))
	require.NoError(t, err)
	bad := stranger.TLSCertificate()
	tests := []struct {
		name   string
		cert   *tls.Certificate
		mutate func(*tls.Config)
		ok     bool
	}{
		{"vehicle_cert", &good, nil, true},
		{"no_cert", nil, nil, false},
		{"wrong_ca", &bad, nil, false},
		{"tls12", &good, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, true},
		{"tls11_refused", &good, func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := roundTrip(t, f.addr, f.client(t, tt.cert, tt.mutate))
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.NoError(t, c.Close())
		})
	}
}

func TestCertificateRequestListsNoCANames(t *testing.T) {
	f := serve(t, nil)
	vehicle, err := f.ca.Issue(devpki.VehicleSpec("5YJ3E1EA1KF000001"))
	require.NoError(t, err)
	var acceptable [][]byte
	asked := false
	cfg := f.client(t, nil, func(c *tls.Config) {
		c.GetClientCertificate = func(info *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked, acceptable = true, info.AcceptableCAs
			cert := vehicle.TLSCertificate()
			return &cert, nil
		}
	})
	c, err := roundTrip(t, f.addr, cfg)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.True(t, asked)
	require.Empty(t, acceptable)
}

func TestReloadKeepsLiveConnections(t *testing.T) {
	reloads := make(chan error, 4)
	f := serve(t, func(err error) { reloads <- err })
	vehicle, err := f.ca.Issue(devpki.VehicleSpec("5YJ3E1EA1KF000001"))
	require.NoError(t, err)
	cert := vehicle.TLSCertificate()
	old, err := roundTrip(t, f.addr, f.client(t, &cert, nil))
	require.NoError(t, err)
	defer old.Close()
	firstSerial := old.ConnectionState().PeerCertificates[0].SerialNumber

	done := make(chan error, 1)
	go func() { done <- f.reloader.Watch(t.Context()) }()
	t.Cleanup(func() { require.NoError(t, <-done) })

	// The watcher may not be set up yet when the first pair is written, so
	// a renewal is repeated until one is seen.
	var newLeaf *x509.Certificate
	require.Eventually(t, func() bool {
		newLeaf = writePair(t, f.ca, f.certFile, f.keyFile)
		select {
		case err := <-reloads:
			require.NoError(t, err)
			return true
		case <-time.After(time.Second):
			return false
		}
	}, 15*time.Second, 10*time.Millisecond)
	fresh, err := roundTrip(t, f.addr, f.client(t, &cert, nil))
	require.NoError(t, err)
	defer fresh.Close()
	require.Equal(t, newLeaf.SerialNumber, fresh.ConnectionState().PeerCertificates[0].SerialNumber)
	require.NotEqual(t, firstSerial, newLeaf.SerialNumber)

	_, err = old.Write([]byte("y"))
	require.NoError(t, err, "connections made before the reload keep working")
	_, err = old.Read(make([]byte, 1))
	require.NoError(t, err)
}

func TestReloadFailureKeepsPreviousPair(t *testing.T) {
	f := serve(t, nil)
	before := f.reloader.Current()
	require.NoError(t, os.WriteFile(f.keyFile, []byte("garbage"), 0o600))
	err := f.reloader.Reload()
	require.Error(t, err)
	require.Same(t, before, f.reloader.Current())
	var pathErr *os.PathError
	require.False(t, errors.As(err, &pathErr))
}
