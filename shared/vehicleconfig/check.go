package vehicleconfig

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
)

// Bounds of the values Check accepts.
const (
	// MinIntervalSeconds is the shortest interval: vehicles send a field at
	// most once a second.
	MinIntervalSeconds = 1
	// LongIntervalSeconds is one day; longer intervals are reported as a
	// warning, since the field is then practically never sent.
	LongIntervalSeconds = 86400
)

// DeliveryPolicies lists the delivery_policy values the check knows.
// "latest" makes vehicles resend unacknowledged V data (firmware 2025.2.6
// and later); other values are warnings, not errors.
var DeliveryPolicies = []string{"latest"}

// Problem is one finding of Check.
type Problem struct {
	// Key is the configuration key concerned ("fields.Speed",
	// "ca"), empty for the whole document.
	Key string
	// Message explains the mistake and how to fix it.
	Message string
	// Warning is true when the vehicle can still work with the value.
	Warning bool
}

func (p Problem) String() string {
	kind := "error"
	if p.Warning {
		kind = "warning"
	}
	if p.Key == "" {
		return kind + ": " + p.Message
	}
	return fmt.Sprintf("%s: %s: %s", kind, p.Key, p.Message)
}

// Problems is the result of Check.
type Problems []Problem

// Err returns the errors (not the warnings) joined, or nil.
func (ps Problems) Err() error {
	var errs []error
	for _, p := range ps {
		if !p.Warning {
			errs = append(errs, errors.New(p.String()))
		}
	}
	return errors.Join(errs...)
}

// fieldNames are the telemetry field names vehicles know: the Field enum
// without Unknown and the retired Deprecated_N numbers.
var fieldNames = func() map[string]bool {
	out := make(map[string]bool, len(vehiclepb.Field_value))
	for name := range vehiclepb.Field_value {
		if name != "Unknown" && !strings.HasPrefix(name, "Deprecated_") {
			out[name] = true
		}
	}
	return out
}()

// IsField reports whether name is a telemetry field vehicles know.
func IsField(name string) bool { return fieldNames[name] }

// AlertTypes lists the alert_types values: the Audience enum of the alert
// proto (without Unknown) in lower case with dashes ("service-fix").
var AlertTypes = func() []string {
	var out []string
	for v, name := range vehiclepb.Audience_name {
		if v != 0 {
			out = append(out, kebab(name))
		}
	}
	sort.Strings(out)
	return out
}()

func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

var hostnameRE = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// Check validates doc as of now. serverChain, when not nil, is the server's
// certificate chain (leaf first): the CA in the configuration must verify
// it and the hostname must be one of the leaf's names.
func Check(doc *Document, serverChain []*x509.Certificate, now time.Time) Problems {
	var ps Problems
	add := func(key string, warn bool, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...), Warning: warn})
	}
	for _, k := range doc.UnknownKeys {
		add(k, true, "unknown key: the vehicle may ignore it (check its spelling)")
	}
	c := doc.Config
	checkHostname(c.Hostname, add)
	if c.Port != 0 && (c.Port < 1 || c.Port > 65535) {
		add("port", false, "%d is not a TCP port (1-65535)", c.Port)
	}
	roots := checkCA(c.CA, now, add)
	checkFields(c.Fields, add)
	for _, a := range c.AlertTypes {
		if !contains(AlertTypes, a) {
			add("alert_types", false, "unknown alert type %q (known: %s)", a, strings.Join(AlertTypes, ", "))
		}
	}
	if c.Exp != 0 && !time.Unix(c.Exp, 0).After(now) {
		add("exp", false, "the configuration expired at %s", time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))
	}
	if c.DeliveryPolicy != "" && !contains(DeliveryPolicies, c.DeliveryPolicy) {
		add("delivery_policy", true, "value %q is not one this check knows (%s)", c.DeliveryPolicy, strings.Join(DeliveryPolicies, ", "))
	}
	for i, v := range doc.VINs {
		if len(v) != 17 {
			add(fmt.Sprintf("vins[%d]", i), false, "%q is not a 17-character VIN", v)
		}
	}
	if doc.Wrapped && len(doc.VINs) == 0 {
		add("vins", false, "the request body lists no VIN")
	}
	if serverChain != nil && roots != nil && hostnameRE.MatchString(c.Hostname) {
		checkServer(c.Hostname, roots, serverChain, now, add)
	}
	return ps
}

type addFunc func(key string, warn bool, format string, args ...any)

func checkHostname(h string, add addFunc) {
	switch {
	case h == "":
		add("hostname", false, "required: the DNS name vehicles connect to")
	case strings.Contains(h, "://") || strings.ContainsAny(h, "/:"):
		add("hostname", false, "%q must be a bare DNS name: no scheme, port or path (the port has its own key)", h)
	case net.ParseIP(h) != nil:
		add("hostname", false, "%q is an IP address; vehicles need a DNS name that is in the server certificate", h)
	case !hostnameRE.MatchString(h):
		add("hostname", false, "%q is not a valid DNS name", h)
	}
}

// checkCA parses the PEM bundle and returns it as a pool (nil when there is
// nothing usable).
func checkCA(bundle string, now time.Time, add addFunc) *x509.CertPool {
	if strings.TrimSpace(bundle) == "" {
		add("ca", false, "required: the PEM certificate of the CA that signed the server certificate")
		return nil
	}
	pool := x509.NewCertPool()
	rest := []byte(bundle)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			add("ca", false, "contains a %s PEM block; only certificates belong here (never a private key)", block.Type)
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			add("ca", false, "certificate %d does not parse: %v", n+1, err)
			continue
		}
		n++
		if now.After(cert.NotAfter) {
			add("ca", false, "certificate %q expired on %s", cert.Subject.CommonName, cert.NotAfter.UTC().Format(time.DateOnly))
		}
		if !cert.IsCA {
			add("ca", true, "certificate %q is not a CA certificate; vehicles need the CA that signed the server certificate", cert.Subject.CommonName)
		}
		pool.AddCert(cert)
	}
	if strings.TrimSpace(string(rest)) != "" {
		add("ca", false, "text after the last PEM block is not a certificate")
	}
	if n == 0 {
		add("ca", false, "no PEM certificate found")
		return nil
	}
	return pool
}

func checkFields(fields map[string]Field, add addFunc) {
	if len(fields) == 0 {
		add("fields", false, "required: at least one telemetry field")
		return
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, key := fields[name], "fields."+name
		if !IsField(name) {
			add(key, false, "unknown field name%s", suggest(name))
			continue
		}
		switch {
		case f.IntervalSeconds < MinIntervalSeconds:
			add(key+".interval_seconds", false, "%d: must be at least %d", f.IntervalSeconds, MinIntervalSeconds)
		case f.IntervalSeconds > LongIntervalSeconds:
			add(key+".interval_seconds", true, "%d s is more than a day: the field will rarely be sent", f.IntervalSeconds)
		}
		if f.MinimumDelta != nil && *f.MinimumDelta < 0 {
			add(key+".minimum_delta", false, "%v: must not be negative", *f.MinimumDelta)
		}
		if f.ResendIntervalSeconds < 0 {
			add(key+".resend_interval_seconds", false, "%d: must not be negative", f.ResendIntervalSeconds)
		} else if f.ResendIntervalSeconds > 0 && f.ResendIntervalSeconds < f.IntervalSeconds {
			add(key+".resend_interval_seconds", true, "%d is shorter than interval_seconds %d", f.ResendIntervalSeconds, f.IntervalSeconds)
		}
	}
}

// suggest names a known field that differs from name only in case.
func suggest(name string) string {
	for known := range fieldNames {
		if strings.EqualFold(known, name) {
			return fmt.Sprintf(" (did you mean %s?)", known)
		}
	}
	return " (names are case-sensitive, as in the Field enum of vehicle_data.proto)"
}

// checkServer checks that hostname is one of the leaf's names and that the
// CA bundle verifies the chain the server presents.
func checkServer(hostname string, roots *x509.CertPool, chain []*x509.Certificate, now time.Time, add addFunc) {
	if len(chain) == 0 {
		add("", false, "the server presented no certificate")
		return
	}
	leaf := chain[0]
	if err := leaf.VerifyHostname(hostname); err != nil {
		add("hostname", false, "%q is not in the server certificate's names %v", hostname, leaf.DNSNames)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		var unknown x509.UnknownAuthorityError
		var invalid x509.CertificateInvalidError
		switch {
		case errors.As(err, &unknown):
			add("ca", false, "does not verify the server certificate (issued by %q): put the CA that signed it (the root of the chain the server sends) here",
				leaf.Issuer.CommonName)
		case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
			add("", false, "the server certificate (or one in its chain) is expired or not yet valid: %v", err)
		default:
			add("ca", false, "does not verify the server certificate: %v", err)
		}
	}
}
