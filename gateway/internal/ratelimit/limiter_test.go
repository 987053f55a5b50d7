package ratelimit_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// epoch is the fake clock's start.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newLimiter(t *testing.T, cfg ratelimit.Config) *ratelimit.Limiter {
	t.Helper()
	l, err := ratelimit.New(cfg, ratelimit.Settings{})
	require.NoError(t, err)
	return l
}

// allowed sends n records for vin at now and returns how many were allowed.
func allowed(l *ratelimit.Limiter, vin string, n int, now time.Time) int {
	count := 0
	for range n {
		if l.Allow(vin, now) {
			count++
		}
	}
	return count
}

// serverRateLimit reads the rate_limit section of a conformance server
// config with the reference's key names.
func serverRateLimit(t *testing.T, name string) ratelimit.Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.ConformanceDir(t), "server_configs", name))
	require.NoError(t, err)
	var cfg struct {
		RateLimit struct {
			Enabled                   bool  `json:"enabled"`
			MessageLimit              int   `json:"message_limit"`
			MessageIntervalTime       int   `json:"message_interval_time"`
			MessageIntervalTimeSecond int64 `json:"MessageIntervalTimeSecond"`
		} `json:"rate_limit"`
	}
	require.NoError(t, json.Unmarshal(raw, &cfg))
	rl := cfg.RateLimit
	return ratelimit.Config{
		Enabled: rl.Enabled, MessageLimit: rl.MessageLimit,
		MessageIntervalTime: rl.MessageIntervalTime, MessageIntervalTimeSecond: rl.MessageIntervalTimeSecond,
	}
}

// The conformance cases send 5 records at once with message_limit 2. The
// reference acks 2 with the nanosecond key and all 5 with the documented
// key (it ignores message_interval_time); fleetrelay limits both to 2.
func TestConformanceConfigs(t *testing.T) {
	tests := []struct {
		name, config string
		wantAllowed  int
	}{
		{name: "rate_limit_enforced", config: "config_rl_enforced.json", wantAllowed: 2},
		{name: "rate_limit_documented_keys", config: "config_rl_documented.json", wantAllowed: 2},
		{name: "default_config_disabled", config: "config.json", wantAllowed: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(t, serverRateLimit(t, tt.config))
			require.Equal(t, tt.wantAllowed, allowed(l, "VIN1", 5, epoch))
		})
	}
}

func TestRefillAndSustainedRate(t *testing.T) {
	tests := []struct {
		name        string
		cfg         ratelimit.Config
		after       time.Duration
		wantAllowed int
	}{
		{name: "nothing_back_immediately", cfg: ratelimit.Config{MessageLimit: 4, MessageIntervalTime: 60}, after: 0, wantAllowed: 0},
		{name: "one_back_after_interval_over_limit", cfg: ratelimit.Config{MessageLimit: 4, MessageIntervalTime: 60}, after: 15 * time.Second, wantAllowed: 1},
		{name: "half_back_after_half_interval", cfg: ratelimit.Config{MessageLimit: 4, MessageIntervalTime: 60}, after: 30 * time.Second, wantAllowed: 2},
		{name: "all_back_after_interval", cfg: ratelimit.Config{MessageLimit: 4, MessageIntervalTime: 60}, after: time.Minute, wantAllowed: 4},
		{name: "burst_capped_at_limit", cfg: ratelimit.Config{MessageLimit: 4, MessageIntervalTime: 60}, after: time.Hour, wantAllowed: 4},
		{name: "nanosecond_key", cfg: ratelimit.Config{MessageLimit: 2, MessageIntervalTimeSecond: int64(time.Second)}, after: 500 * time.Millisecond, wantAllowed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Enabled = true
			l := newLimiter(t, tt.cfg)
			require.Equal(t, tt.cfg.MessageLimit, allowed(l, "VIN1", 10, epoch))
			require.Equal(t, tt.wantAllowed, allowed(l, "VIN1", 10, epoch.Add(tt.after)))
		})
	}
}

func TestVINsAreIndependent(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{Enabled: true, MessageLimit: 2, MessageIntervalTime: 30})
	require.Equal(t, 2, allowed(l, "VIN1", 5, epoch))
	require.Equal(t, 2, allowed(l, "VIN2", 5, epoch))
	require.Equal(t, 0, allowed(l, "VIN1", 5, epoch))
}

func TestDisabledAllowsEverything(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{MessageLimit: 1, MessageIntervalTime: 1})
	require.Equal(t, 1000, allowed(l, "VIN1", 1000, epoch))
	require.Zero(t, l.Tracked())
}

// A VIN idle for a whole interval is forgotten on a later call, and since
// its bucket was full again this changes nothing for it.
func TestIdleEviction(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{Enabled: true, MessageLimit: 2, MessageIntervalTime: 30})
	require.Equal(t, 2, allowed(l, "VIN1", 3, epoch))
	require.Equal(t, 2, allowed(l, "VIN2", 3, epoch.Add(10*time.Second)))
	require.Equal(t, 2, l.Tracked())

	require.True(t, l.Allow("VIN3", epoch.Add(29*time.Second)))
	require.Equal(t, 3, l.Tracked(), "VIN1 idle 29s of 30s: kept")

	require.True(t, l.Allow("VIN3", epoch.Add(30*time.Second)))
	require.Equal(t, 2, l.Tracked(), "VIN1 idle a whole interval: evicted")

	require.Equal(t, 2, allowed(l, "VIN1", 3, epoch.Add(31*time.Second)), "evicted VIN starts with a full budget")
	require.Equal(t, 3, l.Tracked())
}

func TestCapacityEviction(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{Enabled: true, MessageLimit: 1, MessageIntervalTime: 3600, MaxVINs: 2})
	for i := range 10 {
		require.True(t, l.Allow(fmt.Sprintf("VIN%d", i), epoch))
		require.LessOrEqual(t, l.Tracked(), 2)
	}
	require.False(t, l.Allow("VIN9", epoch), "recent VIN still tracked")
	require.True(t, l.Allow("VIN0", epoch), "evicted VIN starts with a full budget")
}

func TestConcurrentAllowHonoursLimit(t *testing.T) {
	const limit, workers, perWorker = 50, 8, 40
	l := newLimiter(t, ratelimit.Config{Enabled: true, MessageLimit: limit, MessageIntervalTime: 3600})
	var got atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range perWorker {
				if l.Allow("SHARED", epoch) {
					got.Add(1)
				}
				l.Allow(fmt.Sprintf("OWN%d", w), epoch)
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, limit, got.Load())
	require.Equal(t, workers+1, l.Tracked())
}

func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	l, err := ratelimit.New(ratelimit.Config{Enabled: true, MessageLimit: 1, MessageIntervalTime: 10, MaxVINs: 2},
		ratelimit.Settings{MeterProvider: mp})
	require.NoError(t, err)
	allowed(l, "VIN1", 3, epoch)                // 2 limited
	allowed(l, "VIN2", 1, epoch)                //
	allowed(l, "VIN3", 1, epoch)                // VIN1 evicted: capacity
	allowed(l, "VIN4", 1, epoch.Add(time.Hour)) // VIN2 evicted: capacity (checked first), VIN3: idle

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				key := m.Name
				if r, ok := dp.Attributes.Value("reason"); ok {
					key += "/" + r.AsString()
				}
				got[key] += dp.Value
			}
		}
	}
	require.Equal(t, map[string]int64{
		"fleetrelay_gateway_rate_limited_records":             2,
		"fleetrelay_gateway_rate_limit_tracked_vins":          1,
		"fleetrelay_gateway_rate_limit_evicted_vins/capacity": 2,
		"fleetrelay_gateway_rate_limit_evicted_vins/idle":     1,
	}, got)
}
