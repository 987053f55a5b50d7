package devpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// VehicleIssuerCN is the Subject CN of the development CA. The reference
// server maps certificates issued by a CA of this name to client type
// "vehicle_device".
const VehicleIssuerCN = "Tesla Motors Products CA"

// Tesla ExtKeyUsage OIDs recognised by the reference server's identity rules
// for certificates from OID issuers.
var (
	// OIDVehicleDevice is the production vehicle_device OID.
	OIDVehicleDevice = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 49279, 2, 5, 1}
	// OIDWifiEAP is the excluded Wi-Fi EAP OID: certificates carrying it are rejected.
	OIDWifiEAP = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 49279, 2, 5, 1, 1}
)

// Default validity periods, counted from issuance. Development certificates
// are long-lived so that a generated directory stays usable.
const (
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	DefaultLeafValidity = 5 * 365 * 24 * time.Hour
	// clockSkew back-dates NotBefore so that peers with a slightly late
	// clock accept a certificate issued a moment ago.
	clockSkew = time.Hour
)

// ErrSpec reports an unusable certificate spec.
var ErrSpec = errors.New("devpki: invalid certificate spec")

// CASpec describes a certificate authority. Zero times mean "now minus an
// hour" and "NotBefore plus DefaultCAValidity".
type CASpec struct {
	CommonName          string
	OrganizationalUnits []string
	NotBefore, NotAfter time.Time
}

// LeafSpec describes an end-entity certificate. Zero times mean "now minus an
// hour" and "NotBefore plus DefaultLeafValidity". An empty ExtKeyUsage and
// UnknownExtKeyUsage leave the extension out (Go then accepts any usage).
type LeafSpec struct {
	CommonName          string
	OrganizationalUnits []string
	DNSNames            []string
	IPAddresses         []net.IP
	ExtKeyUsage         []x509.ExtKeyUsage
	UnknownExtKeyUsage  []asn1.ObjectIdentifier
	NotBefore, NotAfter time.Time
}

// Authority is a CA certificate with its signing key. Chain holds the DER
// certificates above Cert (empty for a root), leaf to root.
type Authority struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain [][]byte
}

// Leaf is an issued end-entity certificate with its key. Chain holds the DER
// of the issuing CAs, nearest first, excluding the self-signed root.
type Leaf struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain [][]byte
}

// NewCA creates a self-signed root CA with a fresh EC P-256 key.
func NewCA(spec CASpec) (*Authority, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	tmpl, err := caTemplate(spec)
	if err != nil {
		return nil, err
	}
	cert, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, Key: key}, nil
}

// NewIntermediate creates a CA signed by a, with a fresh EC P-256 key.
func (a *Authority) NewIntermediate(spec CASpec) (*Authority, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	tmpl, err := caTemplate(spec)
	if err != nil {
		return nil, err
	}
	cert, err := sign(tmpl, a.Cert, key.Public(), a.Key)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, Key: key, Chain: a.issuerChain()}, nil
}

// Issue signs a new leaf for spec with a fresh EC P-256 key.
func (a *Authority) Issue(spec LeafSpec) (*Leaf, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	return a.IssueForKey(spec, key)
}

// IssueForKey signs a new leaf for spec and an existing key.
func (a *Authority) IssueForKey(spec LeafSpec, key crypto.Signer) (*Leaf, error) {
	tmpl, err := leafTemplate(spec)
	if err != nil {
		return nil, err
	}
	cert, err := sign(tmpl, a.Cert, key.Public(), a.Key)
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key, Chain: a.issuerChain()}, nil
}

// Pool returns a certificate pool holding only this CA.
func (a *Authority) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(a.Cert)
	return pool
}

// issuerChain is what a leaf signed by a must present above itself: a, then
// a's own chain, without a self-signed root.
func (a *Authority) issuerChain() [][]byte {
	if isSelfSigned(a.Cert) {
		return nil
	}
	return append([][]byte{a.Cert.Raw}, a.Chain...)
}

// TLSCertificate returns the leaf, its chain and key for a tls.Config.
func (l *Leaf) TLSCertificate() tls.Certificate {
	der := append([][]byte{l.Cert.Raw}, l.Chain...)
	return tls.Certificate{Certificate: der, PrivateKey: l.Key, Leaf: l.Cert}
}

// NewKey generates an EC P-256 private key.
func NewKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devpki: generate P-256 key: %w", err)
	}
	return key, nil
}

func caTemplate(spec CASpec) (*x509.Certificate, error) {
	if spec.CommonName == "" {
		return nil, fmt.Errorf("%w: CA common name is empty", ErrSpec)
	}
	nb, na, err := window(spec.NotBefore, spec.NotAfter, DefaultCAValidity)
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: spec.CommonName, OrganizationalUnit: spec.OrganizationalUnits},
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, nil
}

func leafTemplate(spec LeafSpec) (*x509.Certificate, error) {
	if spec.CommonName == "" && len(spec.DNSNames) == 0 && len(spec.IPAddresses) == 0 {
		return nil, fmt.Errorf("%w: leaf has no common name and no SANs", ErrSpec)
	}
	nb, na, err := window(spec.NotBefore, spec.NotAfter, DefaultLeafValidity)
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: spec.CommonName, OrganizationalUnit: spec.OrganizationalUnits},
		DNSNames:              spec.DNSNames,
		IPAddresses:           spec.IPAddresses,
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           spec.ExtKeyUsage,
		UnknownExtKeyUsage:    spec.UnknownExtKeyUsage,
		BasicConstraintsValid: true,
	}, nil
}

// window fills in default validity bounds and checks their order.
func window(nb, na time.Time, validity time.Duration) (time.Time, time.Time, error) {
	if nb.IsZero() {
		nb = time.Now().Add(-clockSkew)
	}
	if na.IsZero() {
		na = nb.Add(validity)
	}
	if !na.After(nb) {
		return nb, na, fmt.Errorf("%w: NotAfter %s is not after NotBefore %s", ErrSpec, na, nb)
	}
	return nb, na, nil
}

// sign creates the certificate with a random 128-bit serial and parses it back.
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("devpki: serial number: %w", err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("devpki: sign %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("devpki: parse issued %q: %w", tmpl.Subject.CommonName, err)
	}
	return cert, nil
}

func isSelfSigned(c *x509.Certificate) bool {
	return c.CheckSignatureFrom(c) == nil
}

// VehicleSpec is the leaf spec of a vehicle client certificate: Subject CN =
// VIN, ExtKeyUsage clientAuth.
func VehicleSpec(vin string) LeafSpec {
	return LeafSpec{CommonName: vin, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
}

// ServerSpec is the leaf spec of a server certificate for localhost,
// 127.0.0.1, ::1 and hosts (DNS names or IP addresses), ExtKeyUsage
// serverAuth.
func ServerSpec(hosts ...string) LeafSpec {
	spec := LeafSpec{CommonName: "localhost", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range ServerHosts(hosts) {
		if ip := net.ParseIP(h); ip != nil {
			spec.IPAddresses = append(spec.IPAddresses, ip)
		} else {
			spec.DNSNames = append(spec.DNSNames, h)
		}
	}
	return spec
}

// ServerHosts returns the default server names followed by the extra hosts,
// without duplicates or empty entries.
func ServerHosts(extra []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range append([]string{"localhost", "127.0.0.1", "::1"}, extra...) {
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}
