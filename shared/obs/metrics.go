package obs

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Metrics owns a MeterProvider whose instruments are exported on a private
// Prometheus registry, together with the Go runtime and process collectors
// (go_*, process_* such as process_resident_memory_bytes).
type Metrics struct {
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
}

// NewMetrics builds the provider and its registry.
func NewMetrics() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	if err := registerRuntime(reg); err != nil {
		return nil, err
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	return &Metrics{registry: reg, provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))}, nil
}

func registerRuntime(reg *prometheus.Registry) error {
	return errors.Join(
		reg.Register(collectors.NewGoCollector()),
		reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	)
}

// MeterProvider returns the provider instruments are created from.
func (m *Metrics) MeterProvider() metric.MeterProvider { return m.provider }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Registry returns the Prometheus registry, for tests that gather directly.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Shutdown stops the provider; instruments become no-ops.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if err := m.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down meter provider: %w", err)
	}
	return nil
}
