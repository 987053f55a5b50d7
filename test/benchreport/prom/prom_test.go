package prom

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const scrape = `# HELP fleetrelay_gateway_connections Open vehicle connections.
# TYPE fleetrelay_gateway_connections gauge
fleetrelay_gateway_connections{otel_scope_name="gateway"} 42
fleetrelay_wal_batch_records_sum{partition="0"} 300
fleetrelay_wal_batch_records_sum{partition="1"} 100
fleetrelay_wal_batch_records_count{partition="0"} 10
fleetrelay_wal_batch_records_count{partition="1"} 10
lat_bucket{sink="logger",le="0.005"} 10
lat_bucket{sink="logger",le="0.01"} 50
lat_bucket{sink="logger",le="0.025"} 90
lat_bucket{sink="logger",le="+Inf"} 100
lat_bucket{sink="kafka",le="0.005"} 0
lat_bucket{sink="kafka",le="0.01"} 0
lat_bucket{sink="kafka",le="0.025"} 0
lat_bucket{sink="kafka",le="+Inf"} 0
weird{path="a\"b,c}"} 1.5e3 1700000000
`

func TestParse(t *testing.T) {
	ss, err := Parse(strings.NewReader(scrape))
	require.NoError(t, err)
	require.Len(t, ss, 14)
	require.Equal(t, "fleetrelay_gateway_connections", ss[0].Name)
	require.Equal(t, "gateway", ss[0].Labels["otel_scope_name"])
	last := ss[len(ss)-1]
	require.Equal(t, `a"b,c}`, last.Labels["path"])
	require.InDelta(t, 1500, last.Value, 1e-9)
}

func TestParseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"no value":     "metric\n",
		"bad value":    "metric abc\n",
		"bad labels":   "metric{a=b} 1\n",
		"unterminated": `metric{a="b} 1` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(in))
			require.Error(t, err)
		})
	}
}

func TestSum(t *testing.T) {
	ss, err := Parse(strings.NewReader(scrape))
	require.NoError(t, err)
	sum, ok := ss.Sum("fleetrelay_wal_batch_records_sum", nil)
	require.True(t, ok)
	require.InDelta(t, 400, sum, 1e-9)
	sum, ok = ss.Sum("fleetrelay_wal_batch_records_sum", map[string]string{"partition": "1"})
	require.True(t, ok)
	require.InDelta(t, 100, sum, 1e-9)
	_, ok = ss.Sum("missing", nil)
	require.False(t, ok)
}

func TestQuantile(t *testing.T) {
	ss, err := Parse(strings.NewReader(scrape))
	require.NoError(t, err)
	logger := map[string]string{"sink": "logger"}
	tests := []struct {
		q    float64
		want float64
	}{
		{0.05, 0.0025}, // inside the first bucket, from zero
		{0.5, 0.01},    // exactly at a bound
		{0.7, 0.0175},  // halfway through (0.01, 0.025]
		{0.99, 0.025},  // in +Inf: the highest finite bound
	}
	for _, tt := range tests {
		require.InDelta(t, tt.want, ss.Quantile("lat", tt.q, logger), 1e-9, "q=%v", tt.q)
	}
	require.True(t, math.IsNaN(ss.Quantile("lat", 0.5, map[string]string{"sink": "kafka"})))
	require.True(t, math.IsNaN(ss.Quantile("missing", 0.5, nil)))
}

func TestSub(t *testing.T) {
	before, err := Parse(strings.NewReader("c{a=\"1\",b=\"2\"} 10\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 5\n"))
	require.NoError(t, err)
	after, err := Parse(strings.NewReader("c{b=\"2\",a=\"1\"} 25\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 15\nnew 3\n"))
	require.NoError(t, err)
	d := Sub(after, before)
	v, ok := d.Sum("c", nil)
	require.True(t, ok)
	require.InDelta(t, 15, v, 1e-9, "label order does not matter")
	v, _ = d.Sum("new", nil)
	require.InDelta(t, 3, v, 1e-9)
	require.InDelta(t, 1, d.Quantile("h", 0.99, nil), 1e-9, "the period's values are all above 1: highest finite bound")
}

func TestSampleString(t *testing.T) {
	tests := []struct {
		in   Sample
		want string
	}{
		{Sample{Name: "up", Value: 1}, "up 1"},
		{Sample{Name: "h_bucket", Labels: map[string]string{"sink": "logger", "le": "0.005"}, Value: 12}, `h_bucket{le="0.005",sink="logger"} 12`},
		{Sample{Name: "q", Labels: map[string]string{"p": `a"b`}, Value: 0.25}, `q{p="a\"b"} 0.25`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.in.String())
		back, err := Parse(strings.NewReader(tt.in.String()))
		require.NoError(t, err)
		require.Equal(t, tt.in.Value, back[0].Value)
	}
}
