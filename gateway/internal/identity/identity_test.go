package identity_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/gateway/internal/identity"
	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

const vin = "5YJ3E1EA1KF000001"

func oid(s ...int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier(s) }

func teslaOID(arc, n int) asn1.ObjectIdentifier { return oid(1, 3, 6, 1, 4, 1, 49279, 2, arc, n) }

func newCA(t *testing.T, cn string) *devpki.Authority {
	t.Helper()
	ca, err := devpki.NewCA(devpki.CASpec{CommonName: cn})
	require.NoError(t, err)
	return ca
}

func issue(t *testing.T, ca *devpki.Authority, spec devpki.LeafSpec) *x509.Certificate {
	t.Helper()
	leaf, err := ca.Issue(spec)
	require.NoError(t, err)
	return leaf.Cert
}

func TestFromCertificate(t *testing.T) {
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tests := []struct {
		name     string
		issuer   string
		cn       string
		ous      []string
		oids     []asn1.ObjectIdentifier
		wantType string
		wantVIN  string
		wantErr  error
	}{
		{"products_ca", "Tesla Motors Products CA", vin, nil, nil, "vehicle_device", vin, nil},
		{"issuing_ca", "Tesla Issuing CA", vin, nil, nil, "vehicle_device", vin, nil},
		{"teslamotors", "TeslaMotors", vin, nil, nil, "vehicle_device", vin, nil},
		{"board_serial_ou", "Tesla Motors Products CA", vin, []string{"Tesla Motors SN"}, nil, "vehicle_board_device", vin, nil},
		{"serial_ou_not_first", "Tesla Motors Products CA", vin, []string{"x", "Tesla Motors SN"}, nil, "vehicle_device", vin, nil},
		{"dots_become_dashes", "Tesla Issuing CA", "device.1.a", nil, nil, "vehicle_device", "device-1-a", nil},
		{"unknown_issuer", "Some Other CA", vin, nil, nil, "", "", identity.ErrUnauthorizedCert},
		{"oid_prod_vehicle", "Tesla Motors Product Issuing CA", vin, nil, []asn1.ObjectIdentifier{teslaOID(5, 1)}, "vehicle_device", vin, nil},
		{"oid_eng_energy", "Tesla Energy Product Issuing CA", "STE1", nil, []asn1.ObjectIdentifier{teslaOID(4, 2)}, "energy_device", "STE1", nil},
		{"oid_robotics", "Tesla Product Access Issuing CA", "R1", nil, []asn1.ObjectIdentifier{teslaOID(5, 28)}, "robotics_device", "R1", nil},
		{"oid_unknown_then_known", "Tesla Motors GF3 Product Issuing CA", vin, nil,
			[]asn1.ObjectIdentifier{oid(1, 2, 3), teslaOID(5, 11)}, "vehicle_board_device", vin, nil},
		{"oid_ou_wall_connector", "Tesla Energy GF0 Product Issuing CA", "WC1", []string{"Gen3 Wall Connector"},
			[]asn1.ObjectIdentifier{teslaOID(5, 2)}, "wall_connector_device", "WC1", nil},
		{"oid_ou_solar", "Tesla Energy Product Issuing CA", "SI1", []string{"x", "Solar Inverter"},
			[]asn1.ObjectIdentifier{teslaOID(4, 16)}, "solar_inverter_device", "SI1", nil},
		{"oid_excluded_first", "Tesla Motors Product Issuing CA", vin, nil,
			[]asn1.ObjectIdentifier{append(teslaOID(5, 1), 1), teslaOID(5, 1)}, "", "", identity.ErrExcludedCert},
		{"oid_known_before_excluded", "Tesla Motors Product Issuing CA", vin, nil,
			[]asn1.ObjectIdentifier{teslaOID(5, 1), append(teslaOID(5, 1), 1)}, "vehicle_device", vin, nil},
		{"oid_issuer_without_oid", "Tesla Motors Product Issuing CA", vin, nil, nil, "", "", identity.ErrUnauthorizedCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := newCA(t, tt.issuer)
			cert := issue(t, ca, devpki.LeafSpec{CommonName: tt.cn, OrganizationalUnits: tt.ous,
				ExtKeyUsage: clientAuth, UnknownExtKeyUsage: tt.oids})
			id, err := identity.FromCertificate(cert)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantType, id.ClientType)
			require.Equal(t, tt.wantVIN, id.VIN)
			require.Equal(t, tt.wantType+"."+tt.wantVIN, id.SenderID())
		})
	}
}

type pki struct {
	ca, other, unknown, oidCA *devpki.Authority
	roots                     *x509.CertPool
}

func newPKI(t *testing.T) pki {
	p := pki{
		ca:      newCA(t, devpki.VehicleIssuerCN),
		other:   newCA(t, devpki.VehicleIssuerCN),
		unknown: newCA(t, "Some Other CA"),
		oidCA:   newCA(t, "Tesla Motors Product Issuing CA"),
	}
	p.roots = x509.NewCertPool()
	for _, a := range []*devpki.Authority{p.ca, p.unknown, p.oidCA} {
		p.roots.AddCert(a.Cert)
	}
	return p
}

func request(certs ...*x509.Certificate) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "192.0.2.10:50000"
	req.TLS = &tls.ConnectionState{PeerCertificates: certs}
	return req
}

func TestResolveRefusals(t *testing.T) {
	p := newPKI(t)
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	past := time.Now().Add(-48 * time.Hour)
	tests := []struct {
		name   string
		cert   *x509.Certificate
		reason identity.Reason
		status int
	}{
		{"wrong_ca", issue(t, p.other, devpki.VehicleSpec(vin)), identity.ReasonChainInvalid, http.StatusForbidden},
		{"unknown_issuer", issue(t, p.unknown, devpki.VehicleSpec(vin)), identity.ReasonUnauthorized, http.StatusForbidden},
		{"excluded_oid", issue(t, p.oidCA, devpki.LeafSpec{CommonName: vin, ExtKeyUsage: clientAuth,
			UnknownExtKeyUsage: []asn1.ObjectIdentifier{devpki.OIDWifiEAP}}), identity.ReasonExcluded, http.StatusForbidden},
		{"expired", issue(t, p.ca, devpki.LeafSpec{CommonName: vin, ExtKeyUsage: clientAuth,
			NotBefore: past, NotAfter: past.Add(time.Hour)}), identity.ReasonChainInvalid, http.StatusForbidden},
		{"server_only_usage", issue(t, p.ca, devpki.LeafSpec{CommonName: vin,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}), identity.ReasonChainInvalid, http.StatusForbidden},
		{"no_certificate", nil, identity.ReasonNoCertificate, http.StatusUnauthorized},
	}
	r := identity.NewResolver(p.roots, nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request()
			if tt.cert != nil {
				req = request(tt.cert)
			}
			_, err := r.Resolve(req)
			var refused *identity.RefusedError
			require.ErrorAs(t, err, &refused)
			require.Equal(t, tt.reason, refused.Reason)
			require.Equal(t, tt.status, refused.Status)
		})
	}
}

func TestResolveUsesVerifiedLeafNotLastPeerCert(t *testing.T) {
	p := newPKI(t)
	leaf := issue(t, p.ca, devpki.VehicleSpec(vin))
	spoof := issue(t, p.ca, devpki.VehicleSpec("SPOOFEDVIN0000000"))
	id, err := identity.NewResolver(p.roots, nil, nil).Resolve(request(leaf, spoof))
	require.NoError(t, err)
	require.Equal(t, vin, id.VIN)
	require.Equal(t, "vehicle_device", id.ClientType)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

func TestAllowlist(t *testing.T) {
	p := newPKI(t)
	path := filepath.Join(t.TempDir(), "vins.txt")
	writeFile(t, path, "# fleet\n"+vin+"  # my car\n\n")
	list, err := identity.LoadAllowlist(path, nil)
	require.NoError(t, err)
	r := identity.NewResolver(p.roots, list, nil)

	_, err = r.Resolve(request(issue(t, p.ca, devpki.VehicleSpec(vin))))
	require.NoError(t, err)
	_, err = r.Resolve(request(issue(t, p.ca, devpki.VehicleSpec("5YJ3E1EA1KF000002"))))
	var refused *identity.RefusedError
	require.ErrorAs(t, err, &refused)
	require.Equal(t, identity.ReasonNotAllowed, refused.Reason)
}

func TestAllowlistReloadsOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vins.txt")
	writeFile(t, path, "A\n")
	list, err := identity.LoadAllowlist(path, nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- list.Watch(t.Context()) }()
	t.Cleanup(func() { require.NoError(t, <-done) })
	require.Eventually(t, func() bool {
		writeFile(t, path, "A\nB\n")
		return list.Allowed("B")
	}, 10*time.Second, 300*time.Millisecond)
	require.True(t, list.Allowed("A"))
	require.False(t, list.Allowed("C"))
}

func TestAllowlistKeepsOldListWhenFileVanishes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vins.txt")
	writeFile(t, path, "A\n")
	list, err := identity.LoadAllowlist(path, nil)
	require.NoError(t, err)
	require.NoError(t, os.Remove(path))
	require.Error(t, list.Reload())
	require.True(t, list.Allowed("A"))
	_, err = identity.LoadAllowlist(path, nil)
	require.Error(t, err)
}

func sf(c *x509.Certificate) string { return ":" + base64.StdEncoding.EncodeToString(c.Raw) + ":" }

func TestResolveProxyHeader(t *testing.T) {
	p := newPKI(t)
	inter, err := p.ca.NewIntermediate(devpki.CASpec{CommonName: "Tesla Issuing CA"})
	require.NoError(t, err)
	leaf := issue(t, inter, devpki.VehicleSpec(vin))
	direct := issue(t, p.ca, devpki.VehicleSpec(vin))
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	r := identity.NewResolver(p.roots, nil, proxies)
	tests := []struct {
		name   string
		remote string
		tls    []*x509.Certificate
		cert   string
		chain  string
		reason identity.Reason
	}{
		{"trusted_with_chain", "10.1.2.3:4000", nil, sf(leaf), sf(inter.Cert), ""},
		{"trusted_direct_leaf", "10.1.2.3:4000", nil, sf(direct), "", ""},
		{"trusted_missing_intermediate", "10.1.2.3:4000", nil, sf(leaf), "", identity.ReasonChainInvalid},
		{"untrusted_address", "192.0.2.1:4000", nil, sf(direct), "", identity.ReasonProxyUntrusted},
		{"header_and_tls_cert", "10.1.2.3:4000", []*x509.Certificate{direct}, sf(direct), "", identity.ReasonProxyDoubleCert},
		{"not_a_byte_sequence", "10.1.2.3:4000", nil, base64.StdEncoding.EncodeToString(direct.Raw), "", identity.ReasonProxyInvalid},
		{"bad_base64", "10.1.2.3:4000", nil, ":!!:", "", identity.ReasonProxyInvalid},
		{"trusted_without_header_or_cert", "10.1.2.3:4000", nil, "", "", identity.ReasonNoCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(tt.tls...)
			req.RemoteAddr = tt.remote
			if tt.cert != "" {
				req.Header.Set(identity.HeaderClientCert, tt.cert)
			}
			if tt.chain != "" {
				req.Header.Set(identity.HeaderClientCertChain, tt.chain)
			}
			id, err := r.Resolve(req)
			if tt.reason == "" {
				require.NoError(t, err)
				require.Equal(t, vin, id.VIN)
				return
			}
			var refused *identity.RefusedError
			require.ErrorAs(t, err, &refused)
			require.Equal(t, tt.reason, refused.Reason)
		})
	}
}

func TestProxyHeaderIgnoredWhenNoProxiesConfigured(t *testing.T) {
	p := newPKI(t)
	direct := issue(t, p.ca, devpki.VehicleSpec(vin))
	req := request()
	req.RemoteAddr = "127.0.0.1:1"
	req.Header.Set(identity.HeaderClientCert, sf(direct))
	_, err := identity.NewResolver(p.roots, nil, nil).Resolve(req)
	var refused *identity.RefusedError
	require.ErrorAs(t, err, &refused)
	require.Equal(t, identity.ReasonProxyUntrusted, refused.Reason)
}

func TestTrustedAddr(t *testing.T) {
	prefixes := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		addr string
		want bool
	}{
		{"10.0.0.1:80", true}, {"[::1]:443", true}, {"[::ffff:10.0.0.9]:1", true},
		{"11.0.0.1:80", false}, {"garbage", false}, {"10.0.0.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			require.Equal(t, tt.want, identity.TrustedAddr(prefixes, tt.addr))
		})
	}
}
