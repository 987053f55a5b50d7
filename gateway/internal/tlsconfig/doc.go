// Package tlsconfig builds the telemetry listener's TLS configuration:
// mutual TLS is required, TLS 1.2 is the minimum, client chains verify
// against Tesla's CA bundles (copies of the reference server's embedded
// prod_ca.crt / eng_ca.crt) plus tls.ca_file, and the server certificate is
// reloaded when its files change, without a restart and without touching
// established connections.
//
// Acceptable CA names: Go would list every subject of ClientCAs in the
// CertificateRequest (14 for the production bundle, plus tls.ca_file), and
// vehicles have been seen to withhold their certificate when that list is
// long. The listener therefore sends an empty list (TLS 1.2 and 1.3 both
// allow it: "any certificate") by asking for a certificate without setting
// ClientCAs, and verifies the chain itself against the full pool in
// VerifyConnection. The handshake fails exactly as with
// RequireAndVerifyClientCert: a missing, expired, wrongly-signed or
// non-clientAuth certificate is refused before any HTTP byte is read.
package tlsconfig
