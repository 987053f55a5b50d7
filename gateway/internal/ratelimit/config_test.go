package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"
)

func TestConfigInterval(t *testing.T) {
	tests := []struct {
		name string
		cfg  ratelimit.Config
		want time.Duration
	}{
		{name: "documented_seconds", cfg: ratelimit.Config{MessageIntervalTime: 30}, want: 30 * time.Second},
		{name: "reference_nanoseconds", cfg: ratelimit.Config{MessageIntervalTimeSecond: 60_000_000_000}, want: time.Minute},
		{name: "nanoseconds_win", cfg: ratelimit.Config{MessageIntervalTime: 30, MessageIntervalTimeSecond: int64(time.Second)}, want: time.Second},
		{name: "neither", cfg: ratelimit.Config{}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.cfg.Interval())
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     ratelimit.Config
		wantErr []string
	}{
		{name: "disabled_anything_goes", cfg: ratelimit.Config{MessageLimit: -1, MessageIntervalTime: -1}},
		{name: "documented_keys", cfg: ratelimit.Config{Enabled: true, MessageLimit: 2, MessageIntervalTime: 30}},
		{name: "reference_key", cfg: ratelimit.Config{Enabled: true, MessageLimit: 2, MessageIntervalTimeSecond: 1}},
		{name: "no_limit", cfg: ratelimit.Config{Enabled: true, MessageIntervalTime: 30}, wantErr: []string{"rate_limit.message_limit"}},
		{name: "no_interval", cfg: ratelimit.Config{Enabled: true, MessageLimit: 2}, wantErr: []string{"rate_limit.message_interval_time: must be > 0"}},
		{
			name:    "negative_values",
			cfg:     ratelimit.Config{Enabled: true, MessageLimit: -2, MessageIntervalTime: -1, MessageIntervalTimeSecond: -1, MaxVINs: -1},
			wantErr: []string{"rate_limit.message_limit", "rate_limit.message_interval_time: must not be negative", "rate_limit.MessageIntervalTimeSecond", "MaxVINs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
			_, err = ratelimit.New(tt.cfg, ratelimit.Settings{})
			require.Error(t, err)
		})
	}
}
