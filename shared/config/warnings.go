package config

import "sort"

// Warning names an accepted key that has no effect (or a different effect)
// in fleetrelay.
type Warning struct {
	// Key is the key path, e.g. "zmq" or "monitoring.statsd".
	Key string
	// Message explains what fleetrelay does instead.
	Message string
}

// String returns "key: message".
func (w Warning) String() string { return w.Key + ": " + w.Message }

const notBuilt = "accepted for compatibility with the reference config; fleetrelay does not build this feature, the key has no effect"

// warnings lists the keys of c that fleetrelay accepts without acting on
// them. It runs before defaults are applied.
func (c *Config) warnings() []Warning {
	var w []Warning
	add := func(cond bool, key, msg string) {
		if cond {
			w = append(w, Warning{Key: key, Message: msg})
		}
	}
	add(c.ZMQ != nil, "zmq", notBuilt)
	add(c.Redis != nil, "redis", notBuilt)
	add(c.Airbrake != nil, "airbrake", notBuilt)
	add(len(c.ReliableAckSources) > 0, "reliable_ack_sources",
		"accepted; every ack is sent only after the record is durable in the write-ahead log, and forwarders deliver it with retries, so no per-topic reliable-ack source is needed")
	add(c.ReliableAck != nil, "reliable_ack",
		"not a reference config key either (README only); ignored: acks are always sent after the durable WAL append")
	add(len(c.VinsSignalTrackingEnabled) > 0, "vins_signal_tracking_enabled",
		"accepted; fleetrelay exports no per-VIN metrics (unbounded label values)")
	add(c.WAL.Dir == "", "wal.dir", "not set; using ./"+DefaultWALDir+" relative to the working directory (gateway and forwarders must agree)")
	add(c.WAL.NoSync, "wal.no_sync", "fsync is off: acked records can be lost if the machine crashes (tests only)")
	w = append(w, c.Monitoring.warnings()...)
	w = append(w, c.dispatcherWarnings()...)
	return w
}

func (m *MonitoringConfig) warnings() []Warning {
	if m == nil {
		return nil
	}
	var w []Warning
	if m.Statsd != nil {
		w = append(w, Warning{Key: "monitoring.statsd", Message: notBuilt + "; use prometheus_metrics_port"})
	}
	if m.ProfilingPath != "" {
		w = append(w, Warning{Key: "monitoring.profiling_path", Message: notBuilt + "; use the pprof endpoints on profiler_port (/debug/pprof/trace)"})
	}
	return w
}

// dispatcherWarnings names records entries that use dispatchers fleetrelay
// does not build: those records are still stored in the WAL.
func (c *Config) dispatcherWarnings() []Warning {
	var w []Warning
	for _, topic := range keysOf(c.Records) {
		for _, d := range c.Records[topic] {
			if isKnownDispatcher(d) && !isBuiltDispatcher(d) {
				w = append(w, Warning{Key: "records." + topic,
					Message: "dispatcher " + d + " is not built in fleetrelay; its records are stored in the WAL but not delivered to " + d})
			}
		}
	}
	return w
}

func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
