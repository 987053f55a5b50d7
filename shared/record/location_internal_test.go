package record

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseLocation checks that the fast path agrees with the reference's
// fmt.Sscanf parse on every string it accepts (bit for bit, signed zeros
// included), and that ParseLocation agrees with it everywhere.
func FuzzParseLocation(f *testing.F) {
	f.Add("(37.412374 N, 122.145867 W)")
	f.Fuzz(func(t *testing.T, s string) {
		want, wantErr := parseLocationScanf(s)
		if lat, lon, ok := parseLocationFast(s); ok {
			require.NoError(t, wantErr, "fast path accepted %q", s)
			require.Equal(t, math.Float64bits(want.GetLatitude()), math.Float64bits(lat), "latitude of %q", s)
			require.Equal(t, math.Float64bits(want.GetLongitude()), math.Float64bits(lon), "longitude of %q", s)
		}
		got, err := ParseLocation(s)
		require.Equal(t, wantErr == nil, err == nil, "error mismatch for %q: %v vs %v", s, wantErr, err)
		if err == nil {
			require.Equal(t, math.Float64bits(want.GetLatitude()), math.Float64bits(got.GetLatitude()))
			require.Equal(t, math.Float64bits(want.GetLongitude()), math.Float64bits(got.GetLongitude()))
		}
	})
}

func TestParseLocationFastPathCoverage(t *testing.T) {
	tests := []struct {
		in     string
		wantOK bool
	}{
		{in: "(37.412374 N, 122.145867 W)", wantOK: true},
		{in: "(-0 S, +0 E) trailing", wantOK: true},
		{in: "(1 N, 2 E)", wantOK: true},
		{in: "(1.5e3 N, 2 E)"},
		{in: "(1. N, 2 E)"},
		{in: "(.5 N, 2 E)"},
		{in: "(1  N, 2 E)"},
		{in: "( 1 N, 2 E)"},
		{in: "(1 N,2 E)"},
		{in: "(1 N, 2 E"},
		{in: "(1 X, 2 E)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, _, ok := parseLocationFast(tt.in)
			require.Equal(t, tt.wantOK, ok)
		})
	}
}
