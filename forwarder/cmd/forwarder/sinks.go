package main

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/metric"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/kafka"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/kinesis"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/logger"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/mqtt"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/pubsub"
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
	return func(ctx context.Context, name string) (datastore.Sink, error) {
		set := set
		set.Logger = log.With("sink", name)
		switch name {
		case config.DispatcherKafka:
			return kafka.New(cfg.Kafka, set)
		case config.DispatcherKinesis:
			return kinesis.New(ctx, orEmpty(cfg.Kinesis), set)
		case config.DispatcherPubSub:
			return pubsub.New(ctx, orEmpty(cfg.PubSub), set)
		case config.DispatcherMQTT:
			return mqtt.New(orEmpty(cfg.MQTT), set)
		case config.DispatcherLogger:
			return logger.New(orEmpty(cfg.Logger), set)
		default:
			return nil, fmt.Errorf("dispatcher %q is not supported by this forwarder", name)
		}
	}
}

// orEmpty returns c, or a zero section when the config has none.
func orEmpty[T any](c *T) *T {
	if c == nil {
		return new(T)
	}
	return c
}
