package config

import "slices"

// WALConsumers returns the names of the forwarder sinks that read the WAL:
// every dispatcher fleetrelay builds that `records` routes a topic to,
// sorted. The WAL keeps each segment until all of them have passed it.
// Dispatchers that are not built (zmq, redis) are left out: nothing would
// ever consume for them.
func (c *Config) WALConsumers() []string {
	var out []string
	for _, sinks := range c.Records {
		for _, s := range sinks {
			if isBuiltDispatcher(s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Topics returns the configured record topics (the keys of `records`),
// sorted.
func (c *Config) Topics() []string { return keysOf(c.Records) }
