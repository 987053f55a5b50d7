package config

// ForwarderConfig is fleetrelay's `forwarder` section (not in the reference
// config): how the forwarder processes batch, retry and keep dead letters.
type ForwarderConfig struct{}
