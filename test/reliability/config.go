package reliability

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Fault kinds a scenario can inject.
const (
	// FaultGatewayKill SIGKILLs the gateway and starts it again.
	FaultGatewayKill = "gateway-kill"
	// FaultForwarderKill SIGKILLs each sink's forwarder in turn and restarts it.
	FaultForwarderKill = "forwarder-kill"
	// FaultKafkaKill SIGKILLs the Kafka broker and restarts it on the same
	// port and data directory.
	FaultKafkaKill = "kafka-kill"
	// FaultKafkaSlow makes every Kafka request wait (kfakesrv -slow-delay).
	FaultKafkaSlow = "kafka-slow"
	// FaultMQTTRestart stops Mosquitto (SIGTERM: it saves its store, which
	// holds the messages queued for the subscriber) and starts it again.
	FaultMQTTRestart = "mqtt-restart"
	// FaultDiskBudget stops one sink's forwarder until the WAL reaches its
	// disk budget and the gateway stops acking, then restarts it so that
	// retention frees space.
	FaultDiskBudget = "disk-budget"
	// FaultReconnectStorm cuts every vehicle connection at once.
	FaultReconnectStorm = "reconnect-storm"
)

// AllFaults is every fault kind, in the default schedule order.
var AllFaults = []string{
	FaultGatewayKill, FaultForwarderKill, FaultReconnectStorm, FaultKafkaKill,
	FaultKafkaSlow, FaultMQTTRestart, FaultDiskBudget,
}

// Sinks a scenario can deliver to.
var supportedSinks = []string{"kafka", "mqtt", "logger"}

// Config is one scenario.
type Config struct {
	// Binaries are the built commands (see Build).
	Binaries Binaries
	// WorkDir receives the PKI, configs, WAL, datastore data and process logs.
	WorkDir string
	// Duration is how long faults are injected; delivery is then awaited.
	Duration time.Duration
	// Vehicles, Window and Rate shape the simulated fleet (Rate is records
	// per second per vehicle).
	Vehicles, Window int
	Rate             float64
	// Sinks are the datastores every topic goes to ("kafka", "mqtt", "logger").
	Sinks []string
	// Faults are injected in this order, cycling, one every FaultEvery;
	// the run lasts past Duration until each has been injected once.
	Faults     []string
	FaultEvery time.Duration
	// WALBudgetBytes is wal.disk_budget_bytes when the disk-budget fault
	// is scheduled. It must hold the sinks' standing lag with room to spare
	// (or every datastore hiccup stops the acks) and be filled by the fleet
	// within seconds once a forwarder stops.
	WALBudgetBytes int64
	// Hostile runs hostile clients against the gateway during the run.
	Hostile bool
	// CaughtUpLag is the WAL lag (entries, per sink) at or under which a
	// sink counts as caught up after a fault, unless its lag just before
	// the fault was higher; 0 means Vehicles × Window, what the fleet can
	// have in flight at once.
	CaughtUpLag uint64
	// SettleTimeout bounds the wait for every sink to deliver everything
	// after the vehicles stop.
	SettleTimeout time.Duration
	// Progress receives one line per event; nil discards them.
	Progress io.Writer
}

// DefaultConfig returns a scenario of d with every fault and both sinks.
func DefaultConfig(d time.Duration) Config {
	return Config{
		Duration: d, Vehicles: 8, Window: 8, Rate: 40,
		Sinks: []string{"kafka", "mqtt", "logger"}, Faults: slices.Clone(AllFaults), FaultEvery: 10 * time.Second,
		Hostile: true, WALBudgetBytes: 2 << 20, SettleTimeout: 2 * time.Minute,
	}
}

// Validate checks the scenario.
func (c Config) Validate() error {
	var errs []error
	if c.Binaries.Dir == "" {
		errs = append(errs, errors.New("binaries: not built"))
	}
	if c.WorkDir == "" {
		errs = append(errs, errors.New("work dir: empty"))
	}
	if c.Duration <= 0 || c.FaultEvery <= 0 || c.SettleTimeout <= 0 {
		errs = append(errs, errors.New("duration, fault interval and settle timeout must be positive"))
	}
	if c.Vehicles < 1 || c.Window < 1 || c.Rate <= 0 {
		errs = append(errs, errors.New("vehicles, window and rate must be positive"))
	}
	if slices.Contains(c.Faults, FaultDiskBudget) && c.WALBudgetBytes < 4*walSegmentBytes*walPartitions {
		errs = append(errs, fmt.Errorf("wal budget: %d bytes is under four segments per partition", c.WALBudgetBytes))
	}
	if len(c.Sinks) == 0 {
		errs = append(errs, errors.New("sinks: none"))
	}
	for _, s := range c.Sinks {
		if !slices.Contains(supportedSinks, s) {
			errs = append(errs, fmt.Errorf("sink %q: not one of %v", s, supportedSinks))
		}
	}
	for _, f := range c.Faults {
		if !slices.Contains(AllFaults, f) {
			errs = append(errs, fmt.Errorf("fault %q: not one of %v", f, AllFaults))
		}
		if (f == FaultKafkaKill || f == FaultKafkaSlow) && !slices.Contains(c.Sinks, "kafka") {
			errs = append(errs, fmt.Errorf("fault %q needs the kafka sink", f))
		}
		if f == FaultMQTTRestart && !slices.Contains(c.Sinks, "mqtt") {
			errs = append(errs, fmt.Errorf("fault %q needs the mqtt sink", f))
		}
	}
	return errors.Join(errs...)
}
