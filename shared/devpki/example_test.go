package devpki_test

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

// Example_identityCertificates builds the certificates an identity test
// needs: a vehicle, an unknown issuer, an expired leaf, an excluded OID and
// an OID issuer with an OU mapping.
func Example_identityCertificates() {
	vehicleCA := must(devpki.NewCA(devpki.CASpec{CommonName: devpki.VehicleIssuerCN}))
	unknownCA := must(devpki.NewCA(devpki.CASpec{CommonName: "Some Other CA"}))
	oidCA := must(devpki.NewCA(devpki.CASpec{CommonName: "Tesla Motors Product Issuing CA"}))
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

	vehicle := must(vehicleCA.Issue(devpki.VehicleSpec("5YJ3E1EA1KF000001")))
	unknown := must(unknownCA.Issue(devpki.VehicleSpec("5YJ3E1EA1KF000003")))
	expired := must(vehicleCA.Issue(devpki.LeafSpec{CommonName: "5YJ3E1EA1KF000004", ExtKeyUsage: clientAuth,
		NotBefore: past, NotAfter: past.Add(24 * time.Hour)}))
	excluded := must(oidCA.Issue(devpki.LeafSpec{CommonName: "5YJ3E1EA1KF000005", ExtKeyUsage: clientAuth,
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{devpki.OIDWifiEAP}}))
	inverter := must(oidCA.Issue(devpki.LeafSpec{CommonName: "SOLAR1", ExtKeyUsage: clientAuth,
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 49279, 2, 5, 2}}, OrganizationalUnits: []string{"Solar Inverter"}}))

	for _, l := range []*devpki.Leaf{vehicle, unknown, expired, excluded, inverter} {
		cert := l.TLSCertificate() // for a tls.Config of a test client
		fmt.Printf("%s issued by %q, OU %v, %d extra EKU OIDs, chain %d\n", cert.Leaf.Subject.CommonName,
			cert.Leaf.Issuer.CommonName, cert.Leaf.Subject.OrganizationalUnit, len(cert.Leaf.UnknownExtKeyUsage), len(cert.Certificate))
	}
	_ = vehicleCA.Pool() // the gateway's client CA pool
	// Output:
	// 5YJ3E1EA1KF000001 issued by "Tesla Motors Products CA", OU [], 0 extra EKU OIDs, chain 1
	// 5YJ3E1EA1KF000003 issued by "Some Other CA", OU [], 0 extra EKU OIDs, chain 1
	// 5YJ3E1EA1KF000004 issued by "Tesla Motors Products CA", OU [], 0 extra EKU OIDs, chain 1
	// 5YJ3E1EA1KF000005 issued by "Tesla Motors Product Issuing CA", OU [], 1 extra EKU OIDs, chain 1
	// SOLAR1 issued by "Tesla Motors Product Issuing CA", OU [Solar Inverter], 1 extra EKU OIDs, chain 1
}

// must keeps the example short: any error is a bug in it.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
