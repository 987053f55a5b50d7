// Package ackservertest runs an in-process ack server with an in-memory
// development PKI for tests: one CA, a server certificate for 127.0.0.1 and
// client certificates issued on demand per VIN.
package ackservertest

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
	"github.com/fleetrelay/fleetrelay/test/ackserver"
)

// Fixture is a running ack server and the PKI around it. Server changes on
// Restart; read it from the test goroutine only.
type Fixture struct {
	Server *ackserver.Server
	CA     *devpki.Authority
	addr   string
	tls    *tls.Config
}

// Start runs an ack server with cfg on a free 127.0.0.1 port; the test's
// cleanup closes it.
func Start(tb testing.TB, cfg ackserver.Config) *Fixture {
	tb.Helper()
	ca, err := devpki.NewCA(devpki.CASpec{CommonName: devpki.VehicleIssuerCN})
	if err != nil {
		tb.Fatalf("ackservertest: CA: %v", err)
	}
	leaf, err := ca.Issue(devpki.ServerSpec())
	if err != nil {
		tb.Fatalf("ackservertest: server certificate: %v", err)
	}
	f := &Fixture{CA: ca, addr: "127.0.0.1:0", tls: ackserver.ServerTLS(leaf.TLSCertificate(), ca.Pool())}
	f.start(tb, cfg)
	return f
}

// Restart closes the server (dropping every connection) and starts a new
// one with cfg on the same address.
func (f *Fixture) Restart(tb testing.TB, cfg ackserver.Config) {
	tb.Helper()
	if err := f.Server.Close(); err != nil {
		tb.Fatalf("ackservertest: close: %v", err)
	}
	f.start(tb, cfg)
}

// Stop closes the server without starting another; Restart brings it back.
func (f *Fixture) Stop(tb testing.TB) {
	tb.Helper()
	if err := f.Server.Close(); err != nil {
		tb.Fatalf("ackservertest: close: %v", err)
	}
}

func (f *Fixture) start(tb testing.TB, cfg ackserver.Config) {
	tb.Helper()
	srv, err := ackserver.New(cfg, f.tls, nil)
	if err != nil {
		tb.Fatalf("ackservertest: new: %v", err)
	}
	if err := srv.Start(f.addr); err != nil {
		tb.Fatalf("ackservertest: start: %v", err)
	}
	f.Server, f.addr = srv, srv.Addr().String()
	tb.Cleanup(func() { _ = srv.Close() })
}

// URL is the server's websocket URL.
func (f *Fixture) URL() string {
	return "wss://" + f.addr + "/"
}

// RootCAs verifies the server certificate.
func (f *Fixture) RootCAs() *x509.CertPool {
	return f.CA.Pool()
}

// Vehicle issues a vehicle client certificate (Subject CN = vin).
func (f *Fixture) Vehicle(tb testing.TB, vin string) tls.Certificate {
	tb.Helper()
	leaf, err := f.CA.Issue(devpki.VehicleSpec(vin))
	if err != nil {
		tb.Fatalf("ackservertest: vehicle certificate: %v", err)
	}
	return leaf.TLSCertificate()
}

// ClientTLS is a client configuration presenting cert and trusting the CA.
func (f *Fixture) ClientTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: f.CA.Pool(), MinVersion: tls.VersionTLS12}
}
