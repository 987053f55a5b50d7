// Package app wires the gateway from its configuration: logger warnings,
// metrics and status servers, the WAL, the TLS listener with certificate
// reload, identity (with the optional allowlist and proxy trust), ingest,
// and the telemetry server; and it shuts them down in the right order.
// Only cmd/gateway and tests use it.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/fleetrelay/fleetrelay/gateway/internal/readiness"
	"github.com/fleetrelay/fleetrelay/gateway/internal/server"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/shared/obs"
	"github.com/fleetrelay/fleetrelay/wal"
)

// App is a running gateway.
type App struct {
	cfg      *config.Config
	log      *slog.Logger
	metrics  *obs.Metrics
	servers  []*obs.Server // metrics and status servers
	ready    *readiness.Tracker
	wal      *wal.Log
	srv      *server.Server
	ln       net.Listener
	served   chan error
	stop     context.CancelFunc // stops the file watchers
	watchers sync.WaitGroup
}

// Start builds and starts everything cfg asks for. On error, whatever was
// started is stopped again.
func Start(cfg *config.Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: obs.OrDiscard(log), served: make(chan error, 1),
		ready: &readiness.Tracker{Window: readyWindow(cfg)}}
	for _, step := range []func() error{a.startObservability, a.openWAL, a.startServer} {
		if err := step(); err != nil {
			a.abort()
			return nil, err
		}
	}
	a.ready.Opened()
	return a, nil
}

// readyWindow is how long a disk-budget refusal keeps the gateway unready
// when no append succeeds and no other refusal follows: long enough to span
// vehicles' resends of unacked records (a paused connection reads again
// every gateway.wal_retry_delay, a vehicle resends after its own timeout of
// seconds), short enough that a gateway nobody sends to comes back.
func readyWindow(cfg *config.Config) time.Duration {
	return max(2*cfg.Gateway.WALRetryDelay.D(), 30*time.Second)
}

func (a *App) startObservability() error {
	m, err := obs.NewMetrics()
	if err != nil {
		return err
	}
	a.metrics = m
	if addr := a.cfg.Monitoring.PrometheusAddr(); addr != "" {
		if err := a.serve(addr, obs.MetricsMux(m), "metrics_server_started"); err != nil {
			return fmt.Errorf("monitoring.prometheus_metrics_port: %w", err)
		}
	}
	if addr := a.cfg.Monitoring.ProfilerAddr(); addr != "" {
		if err := a.serve(addr, obs.ProfilerMux(), "profiler_server_started"); err != nil {
			return fmt.Errorf("monitoring.profiler_port: %w", err)
		}
	}
	if addr := a.cfg.StatusAddr(); addr != "" {
		mux := http.NewServeMux()
		mux.Handle("/ready", a.ready.Handler())
		mux.Handle("/", obs.StatusHandler("ok"))
		if err := a.serve(addr, mux, "status_server_started"); err != nil {
			return fmt.Errorf("status_port: %w", err)
		}
	}
	return nil
}

func (a *App) serve(addr string, h http.Handler, msg string) error {
	s, err := obs.Serve(addr, h, a.log)
	if err != nil {
		return err
	}
	a.servers = append(a.servers, s)
	a.log.Info(msg, slog.String("addr", s.Addr()))
	return nil
}
