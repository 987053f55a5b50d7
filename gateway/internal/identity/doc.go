// Package identity turns a vehicle's verified client certificate into its
// identity (VIN and client type) exactly as the reference server does, and
// decides before the websocket upgrade whether the client may connect: the
// certificate must map to a known client type, the VIN must be on the
// optional allowlist, and a certificate forwarded by a TLS-terminating proxy
// (RFC 9440) is accepted only from configured proxy addresses.
//
// A refused client gets an HTTP 4xx answer instead of an upgraded socket that
// is closed at once (the reference upgrades first, then closes). Vehicles
// treat both as a failed connection; the HTTP answer is cheaper and tells an
// operator debugging with curl or openssl what is wrong.
package identity
