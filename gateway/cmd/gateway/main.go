// Command gateway is fleetrelay's vehicle-facing server: it accepts Tesla
// vehicles over mutual-TLS websockets, stores every record durably in the
// write-ahead log before acking it, and leaves delivery to the forwarders.
//
//	gateway -config FILE
//
// FILE is a fleetrelay configuration, or the reference server's
// (teslamotors/fleet-telemetry) configuration file unchanged. SIGTERM or
// SIGINT stop accepting connections, finish in-flight records, close every
// socket with a going-away frame, close the WAL and exit, within
// gateway.shutdown_timeout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetrelay/fleetrelay/gateway/internal/app"
	"github.com/fleetrelay/fleetrelay/shared/config"
	"github.com/fleetrelay/fleetrelay/shared/obs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "config.json", "configuration file (fleetrelay's or the reference server's)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, warns, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(stderr, "gateway: %v\n", err)
		return 2
	}
	log, err := obs.NewLogger(stderr, cfg.LogLevel, cfg.JSONLogEnable)
	if err != nil {
		fmt.Fprintf(stderr, "gateway: log_level: %v\n", err)
		return 2
	}
	for _, w := range warns {
		log.Warn("config_warning", slog.String("key", w.Key), slog.String("message", w.Message))
	}
	return serve(ctx, cfg, log)
}

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) int {
	a, err := app.Start(cfg, log)
	if err != nil {
		log.Error("startup_failed", slog.Any("error", err))
		return 1
	}
	code := 0
	select {
	case <-ctx.Done():
		log.Info("signal_received")
	case err := <-a.Done():
		log.Error("server_stopped", slog.Any("error", err))
		code = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Gateway.ShutdownTimeout.D())
	defer cancel()
	if err := a.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("shutdown_incomplete", slog.Any("error", err))
		code = 1
	}
	return code
}
