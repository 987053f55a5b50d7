package vehicleconfig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
)

// FetchChain connects to addr (host:port), sends serverName as SNI, and
// returns the certificate chain the server presents, leaf first. The chain
// is not verified here (Check does that against the configuration's CA).
// The server asks vehicles for a client certificate; none is sent, so the
// handshake may fail after the server's certificate arrived, which is not
// an error here.
func FetchChain(ctx context.Context, addr, serverName string) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	cfg := &tls.Config{
		ServerName: serverName,
		// The chain is checked by Check against the configuration's CA,
		// not against this machine's roots.
		InsecureSkipVerify: true, //nolint:gosec // verified by Check
		MinVersion:         tls.VersionTLS12,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			for _, der := range raw {
				c, err := x509.ParseCertificate(der)
				if err != nil {
					return fmt.Errorf("server certificate does not parse: %w", err)
				}
				chain = append(chain, c)
			}
			return nil
		},
	}
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if conn != nil {
		_ = conn.Close()
	}
	if len(chain) > 0 {
		return chain, nil
	}
	if err == nil {
		err = errors.New("no certificate received")
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
}
