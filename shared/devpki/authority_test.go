package devpki_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

func verifyClient(leaf *devpki.Leaf, roots *x509.CertPool) error {
	inter := x509.NewCertPool()
	for _, der := range leaf.Chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return err
		}
		inter.AddCert(c)
	}
	_, err := leaf.Cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	return err
}

func TestIssueVerifiesAsSpecified(t *testing.T) {
	ca, err := devpki.NewCA(devpki.CASpec{CommonName: devpki.VehicleIssuerCN})
	require.NoError(t, err)
	other, err := devpki.NewCA(devpki.CASpec{CommonName: devpki.VehicleIssuerCN})
	require.NoError(t, err)
	past := time.Now().Add(-48 * time.Hour)

	tests := []struct {
		name    string
		spec    devpki.LeafSpec
		roots   *x509.CertPool
		wantErr bool
	}{
		{name: "vehicle", spec: devpki.VehicleSpec("5YJ3E1EA1KF000001"), roots: ca.Pool()},
		{name: "wrong_ca", spec: devpki.VehicleSpec("5YJ3E1EA1KF000001"), roots: other.Pool(), wantErr: true},
		{name: "expired", spec: devpki.LeafSpec{
			CommonName: "5YJ3E1EA1KF000001", NotBefore: past, NotAfter: past.Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}, roots: ca.Pool(), wantErr: true},
		{name: "tesla_oid_only", spec: devpki.LeafSpec{
			CommonName: "5YJ3E1EA1KF000002", UnknownExtKeyUsage: []asn1.ObjectIdentifier{devpki.OIDVehicleDevice},
		}, roots: ca.Pool(), wantErr: true},
		{name: "server_auth_only", spec: devpki.ServerSpec(), roots: ca.Pool(), wantErr: true},
		{name: "no_eku", spec: devpki.LeafSpec{CommonName: "5YJ3E1EA1KF000003"}, roots: ca.Pool()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf, err := ca.Issue(tc.spec)
			require.NoError(t, err)
			err = verifyClient(leaf, tc.roots)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestIssueCarriesSpecFields(t *testing.T) {
	ca, err := devpki.NewCA(devpki.CASpec{CommonName: "Tesla Motors Product Issuing CA"})
	require.NoError(t, err)
	spec := devpki.LeafSpec{
		CommonName:          "5YJ3E1EA1KF000002",
		OrganizationalUnits: []string{"Solar Inverter"},
		ExtKeyUsage:         []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		UnknownExtKeyUsage:  []asn1.ObjectIdentifier{devpki.OIDWifiEAP, devpki.OIDVehicleDevice},
	}
	leaf, err := ca.Issue(spec)
	require.NoError(t, err)

	c := leaf.Cert
	require.Equal(t, "5YJ3E1EA1KF000002", c.Subject.CommonName)
	require.Equal(t, "Tesla Motors Product Issuing CA", c.Issuer.CommonName)
	require.Equal(t, []string{"Solar Inverter"}, c.Subject.OrganizationalUnit)
	require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, c.ExtKeyUsage)
	require.Len(t, c.UnknownExtKeyUsage, 2)
	require.True(t, c.UnknownExtKeyUsage[0].Equal(devpki.OIDWifiEAP), "OID order is kept")
	require.True(t, c.UnknownExtKeyUsage[1].Equal(devpki.OIDVehicleDevice))
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok)
	require.Equal(t, elliptic.P256(), pub.Curve)
	require.NoError(t, verifyClient(leaf, ca.Pool()))
}

func TestIntermediateChain(t *testing.T) {
	root, err := devpki.NewCA(devpki.CASpec{CommonName: "Tesla Root CA"})
	require.NoError(t, err)
	inter, err := root.NewIntermediate(devpki.CASpec{CommonName: "Tesla Issuing CA"})
	require.NoError(t, err)
	leaf, err := inter.Issue(devpki.VehicleSpec("5YJ3E1EA1KF000004"))
	require.NoError(t, err)

	require.Len(t, leaf.Chain, 1)
	require.NoError(t, verifyClient(leaf, root.Pool()))
	tc := leaf.TLSCertificate()
	require.Len(t, tc.Certificate, 2)
	require.Equal(t, leaf.Cert, tc.Leaf)
}

func TestInvalidSpec(t *testing.T) {
	ca, err := devpki.NewCA(devpki.CASpec{CommonName: "x"})
	require.NoError(t, err)
	now := time.Now()
	tests := []struct {
		name  string
		issue func() error
	}{
		{name: "ca_without_cn", issue: func() error { _, err := devpki.NewCA(devpki.CASpec{}); return err }},
		{name: "leaf_without_names", issue: func() error { _, err := ca.Issue(devpki.LeafSpec{}); return err }},
		{name: "inverted_window", issue: func() error {
			_, err := ca.Issue(devpki.LeafSpec{CommonName: "a", NotBefore: now, NotAfter: now.Add(-time.Second)})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.issue(), devpki.ErrSpec)
		})
	}
}
