package identity

import (
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/netip"

	"github.com/fleetrelay/fleetrelay/gateway/internal/tlsconfig"
)

// Reason is a bounded label for why a client was refused.
type Reason string

// Refusal reasons.
const (
	ReasonNoCertificate   Reason = "no_certificate"
	ReasonChainInvalid    Reason = "chain_invalid"
	ReasonUnauthorized    Reason = "unknown_issuer"
	ReasonExcluded        Reason = "excluded_certificate"
	ReasonNotAllowed      Reason = "vin_not_allowed"
	ReasonProxyUntrusted  Reason = "proxy_header_untrusted"
	ReasonProxyInvalid    Reason = "proxy_header_invalid"
	ReasonProxyDoubleCert Reason = "proxy_header_with_client_cert"
)

// Reasons lists every Reason, for metrics.
var Reasons = []Reason{ReasonNoCertificate, ReasonChainInvalid, ReasonUnauthorized, ReasonExcluded,
	ReasonNotAllowed, ReasonProxyUntrusted, ReasonProxyInvalid, ReasonProxyDoubleCert}

// RefusedError says why a client may not connect and which HTTP status
// answers it.
type RefusedError struct {
	Reason Reason
	Status int
	Err    error
}

func (e *RefusedError) Error() string {
	return "identity refused (" + string(e.Reason) + "): " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *RefusedError) Unwrap() error { return e.Err }

func refuse(r Reason, status int, err error) *RefusedError {
	return &RefusedError{Reason: r, Status: status, Err: err}
}

// Resolver decides who a request is, before the websocket upgrade.
type Resolver struct {
	roots     *x509.CertPool
	allowlist *Allowlist
	proxies   []netip.Prefix
}

// NewResolver returns a resolver verifying chains against roots. allowlist
// (nil = every VIN) and proxies (nil = proxy headers never trusted) are
// optional.
func NewResolver(roots *x509.CertPool, allowlist *Allowlist, proxies []netip.Prefix) *Resolver {
	return &Resolver{roots: roots, allowlist: allowlist, proxies: proxies}
}

// Resolve returns the identity of req, or a *RefusedError.
func (r *Resolver) Resolve(req *http.Request) (Identity, error) {
	certs, rerr := r.presented(req)
	if rerr != nil {
		return Identity{}, rerr
	}
	chains, err := tlsconfig.VerifyClient(certs, r.roots)
	if err != nil {
		return Identity{}, refuse(ReasonChainInvalid, http.StatusForbidden, err)
	}
	id, err := FromCertificate(chains[0][0])
	switch {
	case errors.Is(err, ErrExcludedCert):
		return Identity{}, refuse(ReasonExcluded, http.StatusForbidden, err)
	case err != nil:
		return Identity{}, refuse(ReasonUnauthorized, http.StatusForbidden, err)
	}
	if r.allowlist != nil && !r.allowlist.Allowed(id.VIN) {
		return Identity{}, refuse(ReasonNotAllowed, http.StatusForbidden, errors.New("VIN "+id.VIN+" is not on the allowlist"))
	}
	return id, nil
}

// presented returns the chain the client presented: its TLS certificates,
// or, from a trusted proxy only, the RFC 9440 headers.
func (r *Resolver) presented(req *http.Request) ([]*x509.Certificate, *RefusedError) {
	var tlsCerts []*x509.Certificate
	if req.TLS != nil {
		tlsCerts = req.TLS.PeerCertificates
	}
	hasHeader := req.Header.Get(HeaderClientCert) != ""
	switch {
	case hasHeader && !r.trusted(req.RemoteAddr):
		return nil, refuse(ReasonProxyUntrusted, http.StatusForbidden, errors.New("Client-Cert header from an untrusted address "+req.RemoteAddr))
	case hasHeader && len(tlsCerts) > 0:
		return nil, refuse(ReasonProxyDoubleCert, http.StatusBadRequest, errors.New("both a TLS client certificate and a Client-Cert header"))
	case hasHeader:
		certs, err := proxyChain(req.Header)
		if err != nil {
			return nil, refuse(ReasonProxyInvalid, http.StatusBadRequest, err)
		}
		return certs, nil
	case len(tlsCerts) == 0:
		return nil, refuse(ReasonNoCertificate, http.StatusUnauthorized, errors.New("no client certificate"))
	}
	return tlsCerts, nil
}

// trusted reports whether addr (host:port) is a configured proxy.
func (r *Resolver) trusted(addr string) bool {
	return TrustedAddr(r.proxies, addr)
}

// TrustedAddr reports whether addr (host:port or host) is inside one of the
// prefixes.
func TrustedAddr(prefixes []netip.Prefix, addr string) bool {
	if len(prefixes) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
