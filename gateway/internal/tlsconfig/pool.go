package tlsconfig

import (
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"os"
)

var (
	//go:embed ca/prod_ca.crt
	prodCA []byte
	//go:embed ca/eng_ca.crt
	engCA []byte
)

// TeslaBundle returns Tesla's PEM CA bundle: the engineering one when eng is
// true (use_default_eng_ca), else the production one.
func TeslaBundle(eng bool) []byte {
	if eng {
		return engCA
	}
	return prodCA
}

// ClientPool returns the pool client certificates must chain to: Tesla's
// bundle plus every certificate in caFile (optional).
func ClientPool(eng bool, caFile string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(TeslaBundle(eng)) {
		return nil, errors.New("embedded Tesla CA bundle holds no certificate")
	}
	if caFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("tls.ca_file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls.ca_file: %s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// VerifyClient verifies a client's presented chain (leaf first) against
// roots for client authentication and returns the verified chains; chains[0][0]
// is the verified leaf.
func VerifyClient(certs []*x509.Certificate, roots *x509.CertPool) ([][]*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, errors.New("no client certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("verify client certificate: %w", err)
	}
	return chains, nil
}
