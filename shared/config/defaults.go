package config

import "time"

// Defaults, each with its reason. The reference's own keys keep the
// reference's defaults (zero values) except where noted.
const (
	// DefaultPrometheusMetricsHost keeps metrics off public interfaces, as
	// the reference does since its 0.9.0 security fix.
	DefaultPrometheusMetricsHost = "127.0.0.1"
	// DefaultProfilerHost keeps pprof (which exposes memory contents) on the
	// loopback interface, as the reference does.
	DefaultProfilerHost = "127.0.0.1"
	// DefaultLogLevel is logrus's default level, which the reference keeps
	// when log_level is empty.
	DefaultLogLevel = "info"

	// DefaultWALDir is relative to the working directory; a warning says so
	// because the forwarders must find the same directory.
	DefaultWALDir = "wal"
	// DefaultWALPartitions is one: every partition is a file of its own to
	// fsync, and on one disk more files mean smaller group commits and more
	// journal commits (wal benchmarks on a 2-core VM: 40k appends/s with 64
	// callers on one partition, 19k on four). One partition's forwarder
	// delivers far faster than that (over 1M records/s through the pipeline,
	// ~100k/s to Kafka), so raise it only to run several forwarder processes
	// per sink or to spread a WAL over several disks.
	DefaultWALPartitions = 1
	// DefaultWALSegmentSizeBytes keeps segment files small enough to be
	// deleted promptly once forwarded, and bounds the tail segment each
	// partition keeps in memory (the WAL library's own default).
	DefaultWALSegmentSizeBytes = 16 << 20
	// DefaultWALMaxBatchBytes bounds one group commit (one write and one
	// fsync) so that a huge batch does not delay every waiting append.
	DefaultWALMaxBatchBytes = 4 << 20
	// DefaultWALMaxBatchRecords is large enough that thousands of vehicles
	// share one fsync.
	DefaultWALMaxBatchRecords = 4096
	// DefaultWALSyncDepth syncs one group commit of a partition at a time:
	// on a quiet machine that makes the largest batches and the most
	// records per second (wal/FORMAT.md); 2 helps only when the gateway's
	// CPU is contended.
	DefaultWALSyncDepth = 1
	// DefaultWALPreallocateBytes keeps 1 MiB of synced zeros ahead of each
	// partition's last entry.
	DefaultWALPreallocateBytes = 1 << 20
	// DefaultWALDiskBudgetBytes is 0: no budget beyond the disk itself.
	DefaultWALDiskBudgetBytes = 0

	// DefaultMaxConnections bounds memory: at about 32 KiB per idle
	// connection this is well under a gigabyte.
	DefaultMaxConnections = 20000
	// DefaultMaxInFlight matches the deepest window vehicles are known to
	// use, with headroom; more in-flight records only add memory.
	DefaultMaxInFlight = 32
	// DefaultIdleTimeout: vehicles keep sockets open for hours and answer
	// pings; two missed pings (one every 30 s) mean the peer is gone.
	DefaultIdleTimeout = 90 * time.Second
	// DefaultReadHeaderTimeout covers the TLS handshake and the upgrade
	// request on slow cellular links while cutting off slowloris clients.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultWriteTimeout is the reference's per-frame write deadline.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultShutdownTimeout leaves headroom under Kubernetes' default 30 s
	// termination grace period.
	DefaultShutdownTimeout = 20 * time.Second
	// DefaultWALRetryDelay is long enough not to spin on a full disk and
	// short compared with the vehicles' resend interval.
	DefaultWALRetryDelay = 2 * time.Second
)

// MaxShutdownTimeout is the longest drain allowed: vehicles are told to go
// away well within a 30 s termination grace period.
const MaxShutdownTimeout = 25 * time.Second

// applyDefaults fills every unset value that has a default.
func (c *Config) applyDefaults() {
	if c.LogLevel == "" {
		c.LogLevel = DefaultLogLevel
	}
	if c.Monitoring != nil {
		orDefault(&c.Monitoring.PrometheusMetricsHost, DefaultPrometheusMetricsHost)
		orDefault(&c.Monitoring.ProfilerHost, DefaultProfilerHost)
	}
	c.WAL.applyDefaults()
	c.Gateway.applyDefaults()
	c.Forwarder = c.Forwarder.WithDefaults()
	if c.Kinesis != nil {
		c.Kinesis = c.Kinesis.WithDefaults()
	}
	if c.PubSub != nil {
		c.PubSub = c.PubSub.WithDefaults()
	}
	if c.MQTT != nil {
		c.MQTT = c.MQTT.WithDefaults()
	}
}

func (w *WALConfig) applyDefaults() {
	orDefault(&w.Dir, DefaultWALDir)
	orDefault(&w.Partitions, DefaultWALPartitions)
	orDefault(&w.SegmentSizeBytes, DefaultWALSegmentSizeBytes)
	orDefault(&w.MaxBatchBytes, DefaultWALMaxBatchBytes)
	orDefault(&w.MaxBatchRecords, DefaultWALMaxBatchRecords)
	orDefault(&w.SyncDepth, DefaultWALSyncDepth)
	orDefault(&w.PreallocateBytes, DefaultWALPreallocateBytes)
}

func (g *GatewayConfig) applyDefaults() {
	orDefault(&g.MaxConnections, DefaultMaxConnections)
	orDefault(&g.MaxInFlight, DefaultMaxInFlight)
	orDefault(&g.IdleTimeout, Duration(DefaultIdleTimeout))
	orDefault(&g.ReadHeaderTimeout, Duration(DefaultReadHeaderTimeout))
	orDefault(&g.WriteTimeout, Duration(DefaultWriteTimeout))
	orDefault(&g.ShutdownTimeout, Duration(DefaultShutdownTimeout))
	orDefault(&g.WALRetryDelay, Duration(DefaultWALRetryDelay))
}

func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
