package vehiclesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
)

func TestParseMix(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    vehiclesim.Mix
		wantErr bool
	}{
		{name: "default_form", in: "V=90,alerts=5,errors=5", want: vehiclesim.DefaultMix()},
		{name: "only_v", in: "V=1", want: vehiclesim.Mix{"V": 1}},
		{name: "spaces", in: " V=3 , errors=1", want: vehiclesim.Mix{"V": 3, "errors": 1}},
		{name: "unknown_topic", in: "V=1,connectivity=1", wantErr: true},
		{name: "missing_weight", in: "V", wantErr: true},
		{name: "bad_weight", in: "V=x", wantErr: true},
		{name: "negative", in: "V=2,alerts=-1", wantErr: true},
		{name: "all_zero", in: "V=0", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := vehiclesim.ParseMix(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	require.Equal(t, "V=90,alerts=5,errors=5", vehiclesim.DefaultMix().String())
}

func TestConfigValidate(t *testing.T) {
	valid := func() vehiclesim.Config {
		c := vehiclesim.NewDefaultConfig()
		c.URL = "wss://127.0.0.1:4443/"
		c.Vehicles = []vehiclesim.Vehicle{{VIN: "5YJ3E1EA1KF000001"}}
		return c
	}
	tests := []struct {
		name   string
		modify func(*vehiclesim.Config)
		want   string
	}{
		{name: "valid", modify: func(*vehiclesim.Config) {}},
		{name: "http_url", modify: func(c *vehiclesim.Config) { c.URL = "https://x/" }, want: "url"},
		{name: "no_vehicles", modify: func(c *vehiclesim.Config) { c.Vehicles = nil }, want: "vehicles"},
		{name: "zero_window", modify: func(c *vehiclesim.Config) { c.Window = 0 }, want: "window"},
		{name: "negative_rate", modify: func(c *vehiclesim.Config) { c.Rate = -1 }, want: "rate"},
		{name: "warmup_too_long", modify: func(c *vehiclesim.Config) { c.Duration, c.Warmup = time.Second, time.Second }, want: "warmup"},
		{name: "zero_resend_timeout", modify: func(c *vehiclesim.Config) { c.ResendTimeout = 0 }, want: "resend_timeout"},
		{name: "backoff_inverted", modify: func(c *vehiclesim.Config) { c.BackoffMax = c.BackoffMin / 2 }, want: "backoff"},
		{name: "bad_mix", modify: func(c *vehiclesim.Config) { c.Mix = vehiclesim.Mix{"x": 1} }, want: "topics"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.modify(&c)
			err := c.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}
