package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/fleetrelay/fleetrelay/shared/obs"
)

// Addr returns the telemetry listener's address.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Done delivers the telemetry server's exit error (http.ErrServerClosed
// after Shutdown).
func (a *App) Done() <-chan error { return a.served }

// Online returns the number of vehicles with an open connection.
func (a *App) Online() int { return a.srv.Registry().Online() }

// Metrics returns the metrics registry holder, for tests.
func (a *App) Metrics() *obs.Metrics { return a.metrics }

// Shutdown drains the telemetry server (in-flight records are appended and
// acked), then closes the WAL, the watchers and the side servers. The WAL
// is closed even when the drain times out: appends still waiting then fail
// with wal.ErrClosed and their records are not acked.
func (a *App) Shutdown(ctx context.Context) error {
	a.log.Info("shutdown_started")
	a.ready.Draining()
	errs := []error{a.srv.Shutdown(ctx)}
	errs = append(errs, a.closeRest(ctx)...)
	err := errors.Join(errs...)
	a.log.Info("shutdown_finished", slog.Any("error", err))
	return err
}

func (a *App) closeRest(ctx context.Context) []error {
	var errs []error
	if a.wal != nil {
		if err := a.wal.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close wal: %w", err))
		}
	}
	if a.stop != nil {
		a.stop()
	}
	a.watchers.Wait()
	for _, s := range a.servers {
		errs = append(errs, s.Shutdown(ctx))
	}
	if a.metrics != nil {
		errs = append(errs, a.metrics.Shutdown(ctx))
	}
	return errs
}

// abort undoes a failed Start.
func (a *App) abort() {
	if a.ln != nil {
		_ = a.ln.Close()
	}
	_ = errors.Join(a.closeRest(context.Background())...)
}
