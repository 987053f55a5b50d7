package config

import (
	"encoding/json"
	"fmt"
	"time"
)

// WALConfig is fleetrelay's `wal` section: where and how the gateway
// stores every record before acking it.
type WALConfig struct {
	// Dir is the WAL directory, shared with the forwarder processes.
	Dir string `json:"dir"`
	// Partitions is the number of independent logs records are spread over
	// (by VIN); more partitions let appends and forwarders run in parallel.
	Partitions int `json:"partitions"`
	// SegmentSizeBytes is the size at which a segment file is closed.
	SegmentSizeBytes int64 `json:"segment_size_bytes"`
	// MaxBatchBytes bounds the bytes written per group commit (one fsync).
	MaxBatchBytes int `json:"max_batch_bytes"`
	// MaxBatchRecords bounds the records written per group commit.
	MaxBatchRecords int `json:"max_batch_records"`
	// SyncDepth is how many group commits of a partition may be synced at
	// once (default 1); with 2 the next batch does not wait for the
	// previous one's fdatasync, at the cost of smaller batches. Recovery allows for this many unsynced
	// batches, so lower it only between clean shutdowns.
	SyncDepth int `json:"sync_depth"`
	// PreallocateBytes is how much zero-filled, synced space each partition
	// keeps ahead of its last entry, so that a commit's fdatasync needs no
	// file-system journal commit (never more than a segment); -1 turns it
	// off.
	PreallocateBytes int64 `json:"preallocate_bytes"`
	// DiskBudgetBytes is the most disk the WAL may use; at the budget new
	// records are refused (not acked) until forwarders catch up. 0 = none.
	DiskBudgetBytes int64 `json:"disk_budget_bytes"`
	// NoSync skips fsync: acked records can be lost on a crash. For tests.
	NoSync bool `json:"no_sync"`
}

// GatewayConfig is fleetrelay's `gateway` section: limits of the
// vehicle-facing server.
type GatewayConfig struct {
	// MaxConnections caps concurrent vehicle connections; more are refused
	// with HTTP 503 before the upgrade.
	MaxConnections int `json:"max_connections"`
	// MaxInFlight is how many records of one connection may wait for their
	// WAL append at once (acks still leave in record order).
	MaxInFlight int `json:"max_in_flight"`
	// IdleTimeout closes a websocket that sent nothing (not even a pong) for
	// this long; pings go out every IdleTimeout/3.
	IdleTimeout Duration `json:"idle_timeout"`
	// ReadHeaderTimeout bounds the TLS handshake plus request headers.
	ReadHeaderTimeout Duration `json:"read_header_timeout"`
	// WriteTimeout bounds the write of one frame to a vehicle.
	WriteTimeout Duration `json:"write_timeout"`
	// ShutdownTimeout bounds the SIGTERM drain.
	ShutdownTimeout Duration `json:"shutdown_timeout"`
	// WALRetryDelay is how long a connection stops reading after the WAL
	// refused one of its records (disk budget or I/O error).
	WALRetryDelay Duration `json:"wal_retry_delay"`
	// VINAllowlistFile, optional, lists allowed VINs one per line ('#'
	// comments); reloaded when it changes. Empty = every VIN allowed.
	VINAllowlistFile string `json:"vin_allowlist_file"`
	// TrustedProxies lists addresses or CIDRs of TLS-terminating proxies
	// whose RFC 9440 Client-Cert header is trusted. Empty (default) = off.
	TrustedProxies []string `json:"trusted_proxies"`
}

// Duration is a time.Duration written as a Go duration string ("30s",
// "1m30s") in fleetrelay's own sections.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string such as "30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration string such as \"30s\": %w", err)
	}
	*d = Duration(v)
	return nil
}
