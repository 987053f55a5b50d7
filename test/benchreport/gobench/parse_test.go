package gobench

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/fleetrelay/fleetrelay/wal
cpu: AMD EPYC 7B13
BenchmarkAppend/sync=true/partitions=1/callers=16-2   	    5000	    250000 ns/op	   1.20 MB/s	      4000 records/s	  3.5 p50_ms	  9.1 p99_ms	  15.5 records/fsync
BenchmarkAppend/sync=true/partitions=1/callers=16-2   	    6000	    200000 ns/op	   1.50 MB/s	      5000 records/s	  3.0 p50_ms	  8.0 p99_ms	  16.0 records/fsync
BenchmarkAppend/sync=true/partitions=1/callers=16-2   	    4000	    300000 ns/op	   1.00 MB/s	      3000 records/s	  4.0 p50_ms	 10.0 p99_ms	  15.0 records/fsync
BenchmarkRawFsync
    bench_test.go:12: a log line
BenchmarkRawFsync-2   	    1000	    500000 ns/op	         0.4 p50_ms	         1.2 p99_ms
PASS
ok  	github.com/fleetrelay/fleetrelay/wal	12.3s
`

func TestParse(t *testing.T) {
	res, err := Parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, res, 4)
	require.Equal(t, "BenchmarkAppend/sync=true/partitions=1/callers=16", res[0].Name)
	require.Equal(t, 2, res[0].Procs)
	require.Equal(t, int64(5000), res[0].Iterations)
	require.InDelta(t, 15.5, res[0].Metrics["records/fsync"], 1e-9)
	require.Equal(t, "BenchmarkRawFsync", res[3].Name)
	require.InDelta(t, 1.2, res[3].Metrics["p99_ms"], 1e-9)
}

func TestParseJoinsNameAndFigures(t *testing.T) {
	in := "BenchmarkTailLatency\n    bench_test.go:9: child started\n    1000\t  200 ns/op\t 0.9 ack_to_tail_p50_ms\n"
	res, err := Parse(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, "BenchmarkTailLatency", res[0].Name)
	require.Equal(t, 1, res[0].Procs)
	require.InDelta(t, 0.9, res[0].Metrics["ack_to_tail_p50_ms"], 1e-9)
}

func TestParseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"odd fields":      "BenchmarkX-2 100 5 ns/op 7\n",
		"bad iterations":  "BenchmarkX-2 many 5 ns/op\n",
		"bad metric":      "BenchmarkX-2 100 fast ns/op\n",
		"missing metrics": "BenchmarkX-2 100\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(in))
			require.Error(t, err)
		})
	}
}

func TestSummarize(t *testing.T) {
	res, err := Parse(strings.NewReader(sample))
	require.NoError(t, err)
	sums := Summarize(res)
	require.Len(t, sums, 2)
	a, ok := Find(sums, "BenchmarkAppend/sync=true/partitions=1/callers=16")
	require.True(t, ok)
	require.Equal(t, 3, a.Runs)
	tests := []struct {
		unit string
		want float64
	}{
		{"records/s", 4000},
		{"p50_ms", 3.5},
		{"p99_ms", 9.1},
		{"records/fsync", 15.5},
		{"ns/op", 250000},
	}
	for _, tt := range tests {
		require.InDelta(t, tt.want, a.Get(tt.unit), 1e-9, tt.unit)
	}
	require.True(t, math.IsNaN(a.Get("allocs/op")))
	_, ok = Find(sums, "BenchmarkMissing")
	require.False(t, ok)
}

func TestSummarizeEvenCount(t *testing.T) {
	sums := Summarize([]Result{
		{Name: "B", Metrics: map[string]float64{"x": 1}},
		{Name: "B", Metrics: map[string]float64{"x": 4}},
	})
	require.InDelta(t, 2.5, sums[0].Get("x"), 1e-9)
}
