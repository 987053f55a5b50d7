package identity

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// RFC 9440 header names.
const (
	HeaderClientCert      = "Client-Cert"
	HeaderClientCertChain = "Client-Cert-Chain"
)

// maxProxyCerts bounds Client-Cert-Chain.
const maxProxyCerts = 8

// proxyChain reads the leaf from Client-Cert and the intermediates from
// Client-Cert-Chain (RFC 9440: byte sequences ":<base64 DER>:", the chain
// a comma-separated list). The chain header holds the certificates that
// sign the leaf; the leaf itself comes only from Client-Cert.
func proxyChain(h http.Header) ([]*x509.Certificate, error) {
	leafField := strings.TrimSpace(h.Get(HeaderClientCert))
	if leafField == "" {
		return nil, errors.New("no Client-Cert header")
	}
	leaf, err := parseSFCert(leafField)
	if err != nil {
		return nil, fmt.Errorf("Client-Cert: %w", err)
	}
	certs := []*x509.Certificate{leaf}
	for _, item := range splitList(h.Values(HeaderClientCertChain)) {
		if len(certs) > maxProxyCerts {
			return nil, errors.New("Client-Cert-Chain: too many certificates")
		}
		c, err := parseSFCert(item)
		if err != nil {
			return nil, fmt.Errorf("Client-Cert-Chain: %w", err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

func splitList(values []string) []string {
	var items []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
	}
	return items
}

func parseSFCert(item string) (*x509.Certificate, error) {
	if len(item) < 2 || item[0] != ':' || item[len(item)-1] != ':' {
		return nil, errors.New("not an RFC 8941 byte sequence")
	}
	der, err := base64.StdEncoding.DecodeString(item[1 : len(item)-1])
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return cert, nil
}
