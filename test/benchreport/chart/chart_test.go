package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTicks(t *testing.T) {
	tests := []struct {
		max  float64
		n    int
		want []float64
	}{
		{10, 5, []float64{0, 2, 4, 6, 8, 10}},
		{9.3, 5, []float64{0, 2, 4, 6, 8, 10}},
		{23000, 5, []float64{0, 5000, 10000, 15000, 20000, 25000}},
		{0.7, 4, []float64{0, 0.2, 0.4, 0.6, 0.8}},
		{0, 5, []float64{0, 1}},
		{math.NaN(), 5, []float64{0, 1}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Ticks(tt.max, tt.n), "max=%v", tt.max)
	}
}

func TestFormat(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.5: "0.5", 1500: "1.5k", 20000: "20k", 2.5e6: "2.5M"} {
		require.Equal(t, want, Format(v))
	}
}

func sampleChart() Chart {
	return Chart{
		Title: "Ack latency & throughput", XLabel: "offered records/s", LeftLabel: "ms", RightLabel: "records/s",
		Series: []Series{
			{Name: "p50", Color: "#1f77b4", Points: []Point{{1000, 1.5}, {2000, 2}, {4000, math.NaN()}}},
			{Name: "p99", Color: "#d62728", Dashed: true, Points: []Point{{1000, 4}, {2000, 9}}},
			{Name: "acked/s", Axis: Right, Color: "green", Points: []Point{{1000, 990}, {2000, 1980}}},
			{Name: "empty"},
		},
	}
}

// elements parses the SVG and counts its elements by name.
func elements(t *testing.T, svg []byte) map[string]int {
	t.Helper()
	counts := map[string]int{}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return counts
		}
		require.NoError(t, err)
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
}

func TestWriteSVG(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sampleChart().WriteSVG(&buf))
	counts := elements(t, buf.Bytes())
	require.Equal(t, 1, counts["svg"])
	require.Equal(t, 3+1, counts["polyline"], "three series with points plus the axes")
	require.Equal(t, 6, counts["circle"], "the NaN point is skipped")
	s := buf.String()
	require.Contains(t, s, "Ack latency &amp; throughput")
	require.Contains(t, s, "acked/s (right)")
	require.Contains(t, s, `stroke-dasharray="6 4"`)
	require.Contains(t, s, ">2k<", "x tick label")
}

func TestWriteSVGLeftOnly(t *testing.T) {
	c := Chart{Title: "t", Series: []Series{{Name: "a", Points: []Point{{1, 1}}}}}
	var buf bytes.Buffer
	require.NoError(t, c.WriteSVG(&buf))
	require.NotContains(t, buf.String(), "(left)")
	require.Contains(t, buf.String(), `stroke="black"`)
}

func TestWriteSVGNoPoints(t *testing.T) {
	err := Chart{Title: "empty", Series: []Series{{Name: "a"}}}.WriteSVG(io.Discard)
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "no points"))
}
