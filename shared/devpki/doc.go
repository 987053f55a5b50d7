// Package devpki issues development certificates shaped like Tesla's vehicle
// PKI: a local CA whose Subject CN is a known vehicle issuer ("Tesla Motors
// Products CA"), a server certificate for the gateway, and one client
// certificate per VIN (Subject CN = VIN, EC P-256, ExtKeyUsage clientAuth).
//
// Two layers are offered. In memory, [NewCA] and [Authority.Issue] build
// certificates from a spec (any CN, OUs, validity window, ExtKeyUsage and
// unknown ExtKeyUsage OIDs), so identity tests can make wrong-CA, unknown
// issuer, excluded-OID, expired and OID-issuer certificates. On disk,
// [Ensure] creates a directory idempotently: existing keys and certificates
// are kept, missing ones are added, and the server certificate is reissued
// only when it no longer covers the requested hostnames or is no longer
// valid under the directory's CA.
//
// Directory layout (see [Layout]):
//
//	ca.crt ca.key                 the CA
//	server.crt server.key         serverAuth leaf for localhost, 127.0.0.1, ::1 and the given hosts
//	vehicles/<VIN>.crt <VIN>.key  clientAuth leaf per vehicle
//
// Keys are PKCS#8 PEM written with mode 0600; certificates are PEM, 0644.
package devpki
