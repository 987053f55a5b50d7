// Package config reads fleetrelay's configuration file: the reference
// server's (teslamotors/fleet-telemetry) JSON config, unchanged, plus
// fleetrelay's own `wal`, `gateway` and `forwarder` sections.
//
// Compatibility rules:
//   - Keys match case-insensitively, as the reference's encoding/json does.
//   - Unknown keys are errors that name the key path
//     ("monitoring.prometheus_metrics_prot: unknown key"); the reference
//     silently ignores them, which hides typos.
//   - Keys of features fleetrelay does not build (zmq, redis, airbrake,
//     monitoring.statsd, the profiler, reliable_ack_sources, ...) are
//     accepted and reported as warnings naming them.
//   - Relative file paths (tls.*, wal.dir, gateway.vin_allowlist_file, ...)
//     are resolved against the directory of the configuration file, so a
//     config and its certificates can move together. The reference resolves
//     them against the working directory instead; so that its configs keep
//     working unchanged, a file that must exist (certificate, key, CA
//     bundle, allowlist) and is missing beside the config but present
//     relative to the working directory is taken from there, with a
//     warning. Absolute paths behave the same in both.
//
// Config is plain data: Load decodes and validates, nothing dials a backend.
package config
