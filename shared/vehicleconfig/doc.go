// Package vehicleconfig reads, writes and checks the vehicle telemetry
// configuration a provider sends to Tesla (the fleet_telemetry_config
// request): the server's hostname and port, the CA that signed the server
// certificate, the fields to stream with their intervals, the alert types
// and the optional keys newer firmware understands (prefer_typed,
// delivery_policy, exp, minimum_delta, resend_interval_seconds).
//
// A configuration is accepted either alone ({"hostname": ...}) or wrapped
// in the request body ({"vins": [...], "config": {...}}).
//
// Check reports every problem at once. Mistakes the vehicle cannot work
// with (an unknown field name, a non-positive interval, a CA that did not
// sign the server certificate, a hostname missing from the certificate)
// are errors; keys this package does not know are warnings, because Tesla
// adds keys with new firmware.
package vehicleconfig
