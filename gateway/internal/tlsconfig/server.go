package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// Options configure Server.
type Options struct {
	// Certs supplies the (reloadable) server certificate.
	Certs *CertReloader
	// ClientRoots is the pool client chains must verify against.
	ClientRoots *x509.CertPool
	// TrustedProxy, if not nil, reports whether a connection from addr is a
	// trusted TLS-terminating proxy, which may connect without a client
	// certificate (the identity then comes from its RFC 9440 header).
	TrustedProxy func(net.Addr) bool
}

// Server returns the listener's TLS configuration. It speaks HTTP/1.1
// only: websockets cannot run over HTTP/2 here, so h2 is not offered.
func Server(o Options) *tls.Config {
	base := &tls.Config{
		MinVersion:       tls.VersionTLS12,
		GetCertificate:   o.Certs.GetCertificate,
		ClientAuth:       tls.RequireAnyClientCert,
		NextProtos:       []string{"http/1.1"},
		VerifyConnection: verifier(o.ClientRoots, false),
	}
	if o.TrustedProxy == nil {
		return base
	}
	proxy := base.Clone()
	proxy.ClientAuth = tls.RequestClientCert
	proxy.VerifyConnection = verifier(o.ClientRoots, true)
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if hello.Conn != nil && o.TrustedProxy(hello.Conn.RemoteAddr()) {
			return proxy, nil
		}
		return nil, nil
	}
	return base
}

// errNoClientCert mirrors what RequireAndVerifyClientCert reports.
var errNoClientCert = errors.New("tls: client didn't provide a certificate")

func verifier(roots *x509.CertPool, optional bool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			if optional {
				return nil
			}
			return errNoClientCert
		}
		_, err := VerifyClient(cs.PeerCertificates, roots)
		return err
	}
}
