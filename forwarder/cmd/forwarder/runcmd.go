package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/fleetrelay/fleetrelay/forwarder/internal/service"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/shared/obs"
)

// runForwarder is `forwarder [run]`: deliver until SIGTERM or SIGINT.
func runForwarder(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("run", e.stderr)
	path := fs.String("config", "config.json", "configuration file (the gateway's)")
	var sinks listFlag
	fs.Var(&sinks, "sinks", "comma-separated sinks to run (default: forwarder.sinks, else every sink under records)")
	metricsAddr := fs.String("metrics-addr", "", `host:port of this process's Prometheus endpoint, or "off" (default: monitoring host, forwarder.prometheus_metrics_port, else the gateway's port + 1)`)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, e.stderr)
	if err != nil {
		return err
	}
	names, err := service.SelectSinks(cfg, sinks)
	if err != nil {
		return usageError{err: err}
	}
	log, err := obs.NewLogger(e.stderr, cfg.LogLevel, cfg.JSONLogEnable)
	if err != nil {
		return usageError{err: fmt.Errorf("log_level: %w", err)}
	}
	mp, stopMetrics, err := startMetrics(metricsAddress(cfg, *metricsAddr), log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	log.Info("forwarder starting", "sinks", names, "wal_dir", cfg.WAL.Dir)
	err = service.Run(ctx, cfg, names, service.Settings{
		NewSink: e.sinks(cfg, log, mp), Logger: log, MeterProvider: mp,
	})
	if err != nil {
		log.Error("forwarder stopped", "error", err)
		return errors.Join(errFailed, err)
	}
	log.Info("forwarder stopped")
	return nil
}

// metricsAddress is the -metrics-addr flag if given ("off" disables), else
// the configured forwarder address.
func metricsAddress(cfg *config.Config, flagValue string) string {
	switch flagValue {
	case "":
		return cfg.Forwarder.MetricsAddr(cfg.Monitoring)
	case "off":
		return ""
	default:
		return flagValue
	}
}

// startMetrics serves Prometheus metrics on addr; "" means metrics are off.
func startMetrics(addr string, log *slog.Logger) (metric.MeterProvider, func(), error) {
	if addr == "" {
		return noop.NewMeterProvider(), func() {}, nil
	}
	m, err := obs.NewMetrics()
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	srv, err := obs.Serve(addr, obs.MetricsMux(m), log)
	if err != nil {
		return nil, nil, fmt.Errorf("forwarder metrics on %s: %w", addr, err)
	}
	log.Info("serving metrics", "addr", srv.Addr())
	return m.MeterProvider(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := errors.Join(srv.Shutdown(ctx), m.Shutdown(ctx)); err != nil {
			log.Warn("stop metrics", "error", err)
		}
	}, nil
}
