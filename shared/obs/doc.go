// Package obs builds fleetrelay's observability plumbing from the
// configuration: a slog logger (text or JSON lines on stderr, logrus level
// names), an OpenTelemetry MeterProvider exported through its own Prometheus
// registry (never the global one), and small plain-HTTP servers for
// /metrics and /status with timeouts set.
package obs
