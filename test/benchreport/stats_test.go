package benchreport

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"one", []float64{7}, 7},
		{"odd unsorted", []float64{9, 1, 5}, 5},
		{"even", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.InDelta(t, tt.want, Median(tt.in), 1e-9)
		})
	}
	require.True(t, math.IsNaN(Median(nil)))
}

func TestMedianKeepsInput(t *testing.T) {
	in := []float64{3, 1, 2}
	Median(in)
	require.Equal(t, []float64{3, 1, 2}, in)
}

func TestRatio(t *testing.T) {
	require.InDelta(t, 0.8, Ratio(8, 10), 1e-9)
	require.True(t, math.IsNaN(Ratio(1, 0)))
	require.True(t, math.IsNaN(Ratio(math.NaN(), 1)))
}
