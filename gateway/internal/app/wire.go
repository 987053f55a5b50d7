package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/fleetrelay/fleetrelay/gateway/internal/gwmetrics"
	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"
	"github.com/fleetrelay/fleetrelay/gateway/internal/server"
	"github.com/fleetrelay/fleetrelay/gateway/internal/session"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/wal"
)

func (a *App) openWAL() error {
	w := a.cfg.WAL
	log, err := wal.Open(w.Dir, wal.Options{
		Partitions:      w.Partitions,
		SegmentSize:     w.SegmentSizeBytes,
		MaxBatchBytes:   w.MaxBatchBytes,
		MaxBatchRecords: w.MaxBatchRecords,
		SyncDepth:       w.SyncDepth,
		Preallocate:     w.PreallocateBytes,
		NoSync:          w.NoSync,
		DiskBudgetBytes: w.DiskBudgetBytes,
		Consumers:       a.cfg.WALConsumers(),
		Logger:          a.log,
		MeterProvider:   a.metrics.MeterProvider(),
	})
	if err != nil {
		return fmt.Errorf("wal.dir %s: %w", w.Dir, err)
	}
	a.wal = log
	a.log.Info("wal_opened", slog.String("dir", w.Dir), slog.Int("partitions", log.Partitions()),
		slog.Any("consumers", a.cfg.WALConsumers()), slog.Bool("fsync", !w.NoSync))
	return nil
}

func (a *App) startServer() error {
	gm, err := gwmetrics.New(a.metrics.MeterProvider(), a.cfg.Topics())
	if err != nil {
		return err
	}
	tlsCfg, resolver, err := a.security(gm)
	if err != nil {
		return err
	}
	proc, err := ingest.NewProcessor(ingestConfig(a.cfg), ingest.Settings{Logger: a.log, MeterProvider: a.metrics.MeterProvider()})
	if err != nil {
		return err
	}
	a.srv = server.New(serverConfig(a.cfg), server.Deps{
		TLS: tlsCfg, Resolver: resolver, Processor: proc, WAL: session.WAL(a.wal), Metrics: gm, Logger: a.log,
		Health: a.ready,
	})
	ln, err := net.Listen("tcp", a.cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.Addr(), err)
	}
	a.ln = ln
	go func() { a.served <- a.srv.Serve(ln) }()
	a.log.Info("starting_server", slog.String("addr", ln.Addr().String()))
	return nil
}

func ingestConfig(cfg *config.Config) ingest.Config {
	c := ingest.Config{Topics: cfg.Topics()}
	if rl := cfg.RateLimit; rl != nil {
		c.RateLimit = ratelimit.Config{
			Enabled:                   rl.Enabled,
			MessageLimit:              rl.MessageLimit,
			MessageIntervalTime:       rl.MessageIntervalTime,
			MessageIntervalTimeSecond: int64(rl.MessageIntervalTimeSecond),
		}
	}
	return c
}

func serverConfig(cfg *config.Config) server.Config {
	g := cfg.Gateway
	return server.Config{
		Session: session.Config{
			IdleTimeout:   g.IdleTimeout.D(),
			WriteTimeout:  g.WriteTimeout.D(),
			MaxInFlight:   g.MaxInFlight,
			WALRetryDelay: g.WALRetryDelay.D(),
		},
		MaxConnections:    g.MaxConnections,
		ReadHeaderTimeout: g.ReadHeaderTimeout.D(),
	}
}

func trustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range list {
		p, err := config.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("gateway.trusted_proxies[%d]: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// watch runs a file watcher until Shutdown.
func (a *App) watch(ctx context.Context, what string, fn func(context.Context) error) {
	a.watchers.Add(1)
	go func() {
		defer a.watchers.Done()
		if err := fn(ctx); err != nil {
			a.log.Error("file_watch_failed", slog.String("what", what), slog.Any("error", err))
		}
	}()
}
