package main

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/metric"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/logger"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/service"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// sinkFactory returns the service.NewSink for a configuration.
type sinkFactory func(cfg *config.Config, log *slog.Logger, mp metric.MeterProvider) service.NewSink

// datastoreSinks builds the real datastore sinks from their config sections.
func datastoreSinks(cfg *config.Config, log *slog.Logger, mp metric.MeterProvider) service.NewSink {
	set := datastore.Settings{
		Namespace: cfg.Namespace, TransmitDecodedRecords: cfg.TransmitDecodedRecords, MeterProvider: mp,
	}
	return func(_ context.Context, name string) (datastore.Sink, error) {
		set := set
		set.Logger = log.With("sink", name)
		switch name {
		case "logger":
			lc := cfg.Logger
			if lc == nil {
				lc = &config.LoggerConfig{}
			}
			return logger.New(lc, set)
		default:
			return nil, fmt.Errorf("dispatcher %q is not supported by this forwarder", name)
		}
	}
}
