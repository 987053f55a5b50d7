package vehicleconfig_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
	"github.com/fleetrelay/fleetrelay/shared/vehicleconfig"
)

// pki is a root, an intermediate and a server certificate for
// telemetry.example.net, plus an unrelated root.
type pki struct {
	root, other *devpki.Authority
	server      *devpki.Leaf
	chain       []*x509.Certificate // leaf, intermediate
}

func newPKI(t *testing.T) pki {
	t.Helper()
	root, err := devpki.NewCA(devpki.CASpec{CommonName: "Test Root"})
	require.NoError(t, err)
	inter, err := root.NewIntermediate(devpki.CASpec{CommonName: "Test Issuing"})
	require.NoError(t, err)
	server, err := inter.Issue(devpki.ServerSpec("telemetry.example.net"))
	require.NoError(t, err)
	other, err := devpki.NewCA(devpki.CASpec{CommonName: "Other Root"})
	require.NoError(t, err)
	chain := []*x509.Certificate{server.Cert}
	for _, der := range server.Chain {
		c, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		chain = append(chain, c)
	}
	return pki{root: root, other: other, server: server, chain: chain}
}

func validConfig(p pki) vehicleconfig.Config {
	typed := true
	return vehicleconfig.Config{
		Hostname: "telemetry.example.net",
		Port:     443,
		CA:       string(devpki.CertPEM(p.root.Cert)),
		Fields: map[string]vehicleconfig.Field{
			"VehicleSpeed": {IntervalSeconds: 10},
			"Location":     {IntervalSeconds: 30, ResendIntervalSeconds: 300},
		},
		AlertTypes:     []string{"service"},
		PreferTyped:    &typed,
		DeliveryPolicy: "latest",
	}
}

// keys returns "error|warning key" for each problem.
func keys(ps vehicleconfig.Problems) []string {
	var out []string
	for _, p := range ps {
		kind := "error"
		if p.Warning {
			kind = "warning"
		}
		out = append(out, kind+" "+p.Key)
	}
	return out
}

func TestCheck(t *testing.T) {
	p := newPKI(t)
	now := time.Now()
	neg := -1.0
	tests := []struct {
		name   string
		edit   func(c *vehicleconfig.Config)
		chain  []*x509.Certificate
		want   []string
		inText string
	}{
		{name: "valid", edit: func(*vehicleconfig.Config) {}, chain: p.chain},
		{name: "valid without server chain", edit: func(*vehicleconfig.Config) {}},
		{name: "unknown field", edit: func(c *vehicleconfig.Config) { c.Fields["Speed"] = vehicleconfig.Field{IntervalSeconds: 10} },
			want: []string{"error fields.Speed"}},
		{name: "field case", edit: func(c *vehicleconfig.Config) { c.Fields["vehiclespeed"] = vehicleconfig.Field{IntervalSeconds: 10} },
			want: []string{"error fields.vehiclespeed"}, inText: "did you mean VehicleSpeed"},
		{name: "retired field number", edit: func(c *vehicleconfig.Config) { c.Fields["Deprecated_1"] = vehicleconfig.Field{IntervalSeconds: 10} },
			want: []string{"error fields.Deprecated_1"}},
		{name: "zero interval", edit: func(c *vehicleconfig.Config) { c.Fields["Soc"] = vehicleconfig.Field{} },
			want: []string{"error fields.Soc.interval_seconds"}},
		{name: "interval over a day", edit: func(c *vehicleconfig.Config) { c.Fields["Soc"] = vehicleconfig.Field{IntervalSeconds: 90000} },
			want: []string{"warning fields.Soc.interval_seconds"}},
		{name: "negative delta", edit: func(c *vehicleconfig.Config) {
			c.Fields["Soc"] = vehicleconfig.Field{IntervalSeconds: 60, MinimumDelta: &neg}
		},
			want: []string{"error fields.Soc.minimum_delta"}},
		{name: "resend shorter than interval", edit: func(c *vehicleconfig.Config) {
			c.Fields["Soc"] = vehicleconfig.Field{IntervalSeconds: 60, ResendIntervalSeconds: 30}
		}, want: []string{"warning fields.Soc.resend_interval_seconds"}},
		{name: "no fields", edit: func(c *vehicleconfig.Config) { c.Fields = nil }, want: []string{"error fields"}},
		{name: "hostname with scheme", edit: func(c *vehicleconfig.Config) { c.Hostname = "https://telemetry.example.net" },
			want: []string{"error hostname"}},
		{name: "hostname with port", edit: func(c *vehicleconfig.Config) { c.Hostname = "telemetry.example.net:443" },
			want: []string{"error hostname"}},
		{name: "hostname is an IP", edit: func(c *vehicleconfig.Config) { c.Hostname = "203.0.113.7" }, want: []string{"error hostname"}},
		{name: "no hostname", edit: func(c *vehicleconfig.Config) { c.Hostname = "" }, want: []string{"error hostname"}},
		{name: "bad port", edit: func(c *vehicleconfig.Config) { c.Port = 70000 }, want: []string{"error port"}},
		{name: "unknown alert type", edit: func(c *vehicleconfig.Config) { c.AlertTypes = []string{"Service"} },
			want: []string{"error alert_types"}, inText: "customer, service, service-fix"},
		{name: "expired", edit: func(c *vehicleconfig.Config) { c.Exp = now.Add(-time.Hour).Unix() }, want: []string{"error exp"}},
		{name: "future exp", edit: func(c *vehicleconfig.Config) { c.Exp = now.Add(720 * time.Hour).Unix() }},
		{name: "unknown delivery policy", edit: func(c *vehicleconfig.Config) { c.DeliveryPolicy = "everything" },
			want: []string{"warning delivery_policy"}},
		{name: "no ca", edit: func(c *vehicleconfig.Config) { c.CA = "" }, want: []string{"error ca"}},
		{name: "ca not PEM", edit: func(c *vehicleconfig.Config) { c.CA = "MIIB..." }, want: []string{"error ca", "error ca"}},
		{name: "private key in ca", edit: func(c *vehicleconfig.Config) {
			key, err := devpki.KeyPEM(p.root.Key)
			require.NoError(t, err)
			c.CA += string(key)
		}, want: []string{"error ca"}, inText: "never a private key"},
		{name: "leaf instead of CA", edit: func(c *vehicleconfig.Config) { c.CA = string(devpki.CertPEM(p.server.Cert)) },
			chain: p.chain, want: []string{"warning ca"}},
		{name: "wrong CA", edit: func(c *vehicleconfig.Config) { c.CA = string(devpki.CertPEM(p.other.Cert)) },
			chain: p.chain, want: []string{"error ca"}, inText: `issued by "Test Issuing"`},
		{name: "hostname not in certificate", edit: func(c *vehicleconfig.Config) { c.Hostname = "other.example.net" },
			chain: p.chain, want: []string{"error hostname"}, inText: "not in the server certificate"},
		{name: "server sends no intermediate", edit: func(*vehicleconfig.Config) {},
			chain: p.chain[:1], want: []string{"error ca"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(p)
			c.Fields = map[string]vehicleconfig.Field{"VehicleSpeed": {IntervalSeconds: 10}, "Location": {IntervalSeconds: 30}}
			tt.edit(&c)
			ps := vehicleconfig.Check(&vehicleconfig.Document{Config: c}, tt.chain, now)
			require.ElementsMatch(t, tt.want, keys(ps), "%v", ps)
			if tt.inText != "" {
				var all []string
				for _, p := range ps {
					all = append(all, p.String())
				}
				require.Contains(t, strings.Join(all, "\n"), tt.inText)
			}
			if len(tt.want) == 0 {
				require.NoError(t, ps.Err())
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name        string
		doc         string
		wantErr     string
		wantWrapped bool
		wantVINs    []string
		wantUnknown []string
	}{
		{name: "bare", doc: `{"hostname":"h.example.net","ca":"x","fields":{"Soc":{"interval_seconds":60}}}`},
		{name: "request body", doc: `{"vins":["5YJ3E1EA1KF000001"],"config":{"hostname":"h","fields":{"Soc":{"interval_seconds":60,"minimum_delta":null}}}}`,
			wantWrapped: true, wantVINs: []string{"5YJ3E1EA1KF000001"}},
		{name: "unknown keys", doc: `{"hostname":"h","fields":{"Soc":{"interval_seconds":60,"intervall":5}},"colour":"red"}`,
			wantUnknown: []string{"colour", "fields.Soc.intervall"}},
		{name: "port as string", doc: `{"hostname":"h","port":"443"}`, wantErr: "port: JSON string where an integer is required"},
		{name: "fractional interval", doc: `{"fields":{"Soc":{"interval_seconds":1.5}}}`, wantErr: "interval_seconds"},
		{name: "fields not objects", doc: `{"fields":["Soc"]}`, wantErr: "fields: want an object of objects"},
		{name: "not an object", doc: `[1]`, wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := vehicleconfig.Parse([]byte(tt.doc))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantWrapped, doc.Wrapped)
			require.Equal(t, tt.wantVINs, doc.VINs)
			require.Equal(t, tt.wantUnknown, doc.UnknownKeys)
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	p := newPKI(t)
	c := validConfig(p)
	for _, vins := range [][]string{nil, {"5YJ3E1EA1KF000001"}} {
		b, err := vehicleconfig.Marshal(c, vins)
		require.NoError(t, err)
		doc, err := vehicleconfig.Parse(b)
		require.NoError(t, err)
		require.Equal(t, c, doc.Config)
		require.Equal(t, vins, doc.VINs)
		require.Empty(t, doc.UnknownKeys)
		require.NoError(t, vehicleconfig.Check(doc, p.chain, time.Now()).Err())
	}
}

func TestFetchChain(t *testing.T) {
	p := newPKI(t)
	cert := p.server.TLSCertificate()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.other.Pool(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	chain, err := vehicleconfig.FetchChain(ctx, ln.Addr().String(), "telemetry.example.net")
	require.NoError(t, err, "the mTLS server refuses the missing client certificate after sending its own")
	require.Len(t, chain, 2)
	require.Equal(t, p.server.Cert.Raw, chain[0].Raw)

	free, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := free.Addr().String()
	require.NoError(t, free.Close())
	_, err = vehicleconfig.FetchChain(ctx, addr, "telemetry.example.net")
	require.ErrorContains(t, err, "connect to")
}
