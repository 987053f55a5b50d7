package identity

import (
	"crypto/x509"
	"errors"
	"slices"
	"strings"
)

// Identity is who a connection belongs to.
type Identity struct {
	// VIN is the verified leaf's Subject CN with '.' replaced by '-'.
	VIN string
	// ClientType is the reference's client type, e.g. "vehicle_device".
	ClientType string
}

// SenderID is the reference's sender id: "<client type>.<VIN>".
func (i Identity) SenderID() string { return i.ClientType + "." + i.VIN }

var (
	// ErrUnauthorizedCert is the reference's error for a certificate whose
	// issuer (or extended key usage) maps to no client type.
	ErrUnauthorizedCert = errors.New("identity: unauthorized certificate")
	// ErrExcludedCert is the reference's error for excluded certificates
	// (the vehicle's Wi-Fi EAP certificate).
	ErrExcludedCert = errors.New("identity: excluded certificate")
)

const (
	clientVehicle      = "vehicle_device"
	clientVehicleBoard = "vehicle_board_device"
	productsCA         = "Tesla Motors Products CA"
	serialNumberOU     = "Tesla Motors SN"
)

// knownIssuers maps an issuer CN to the client type of its leaves.
var knownIssuers = map[string]string{
	"TeslaMotors":      clientVehicle,
	"Tesla Issuing CA": clientVehicle,
	productsCA:         clientVehicle,
}

// knownOIDIssuers issue leaves whose client type comes from their extended
// key usage OIDs.
var knownOIDIssuers = []string{
	"Tesla Motors Product Issuing CA",
	"Tesla Motors Product RSA Issuing CA",
	"Tesla Motors GF3 Product Issuing CA",
	"Tesla Motors GF3 Product RSA Issuing CA",
	"Tesla Energy Product Issuing CA",
	"Tesla Energy GF0 Product Issuing CA",
	"Tesla Motors GF0 Product Issuing CA",
	"Tesla Motors GF Austin Product Issuing CA",
	"Tesla Motors GF Berlin Product Issuing CA",
	"Tesla Product Access Issuing CA",
	"Tesla China Product Access Issuing CA",
	"Tesla GF0 Product Access Issuing CA",
	"Tesla GF3 Product Access Issuing CA",
	"Tesla GF Austin Product Access Issuing CA",
	"Tesla GF Berlin Product Access Issuing CA",
}

// oidSuffixes maps the last arc of Tesla's client-type OIDs (engineering arc
// 1.3.6.1.4.1.49279.2.4.N, production arc 1.3.6.1.4.1.49279.2.5.N).
var oidSuffixes = map[string]string{
	"1": clientVehicle, "11": clientVehicleBoard, "2": "energy_device", "12": "das_device",
	"14": "vehicle_service", "15": "das_service", "16": "energy_service", "28": "robotics_device",
}

var oidMap = buildOIDMap()

func buildOIDMap() map[string]string {
	m := make(map[string]string, 2*len(oidSuffixes))
	for n, ct := range oidSuffixes {
		m["1.3.6.1.4.1.49279.2.4."+n] = ct
		m["1.3.6.1.4.1.49279.2.5."+n] = ct
	}
	return m
}

// ouMap refines the client type by Subject OU for OID-issued leaves.
var ouMap = map[string]string{
	"Solar Inverter":      "solar_inverter_device",
	"Gen3 Wall Connector": "wall_connector_device",
}

// excludedOIDs are extended key usages whose certificates may not stream.
var excludedOIDs = map[string]bool{"1.3.6.1.4.1.49279.2.5.1.1": true}

// FromCertificate maps a verified leaf to its identity with the reference's
// tables. The leaf must already be verified: this only reads it.
func FromCertificate(leaf *x509.Certificate) (Identity, error) {
	id := Identity{VIN: strings.ReplaceAll(leaf.Subject.CommonName, ".", "-")}
	ct, err := clientType(leaf)
	if err != nil {
		return Identity{}, err
	}
	id.ClientType = ct
	return id, nil
}

func clientType(leaf *x509.Certificate) (string, error) {
	issuer := leaf.Issuer.CommonName
	if slices.Contains(knownOIDIssuers, issuer) {
		return clientTypeFromOIDs(leaf)
	}
	ct, ok := knownIssuers[issuer]
	if !ok {
		return "", ErrUnauthorizedCert
	}
	if issuer == productsCA && len(leaf.Subject.OrganizationalUnit) > 0 &&
		leaf.Subject.OrganizationalUnit[0] == serialNumberOU {
		ct = clientVehicleBoard
	}
	return ct, nil
}

func clientTypeFromOIDs(leaf *x509.Certificate) (string, error) {
	for _, oid := range leaf.UnknownExtKeyUsage {
		s := oid.String()
		if excludedOIDs[s] {
			return "", ErrExcludedCert
		}
		ct, ok := oidMap[s]
		if !ok {
			continue
		}
		for _, ou := range leaf.Subject.OrganizationalUnit {
			if t, ok := ouMap[ou]; ok {
				return t, nil
			}
		}
		return ct, nil
	}
	return "", ErrUnauthorizedCert
}
