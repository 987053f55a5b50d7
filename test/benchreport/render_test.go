package benchreport

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/test/benchreport/gobench"
)

func TestRate(t *testing.T) {
	tests := map[float64]string{0: "0", 999.6: "1,000", 14500: "14,500", 1234567: "1,234,567", -2500: "-2,500", math.NaN(): "–"}
	for v, want := range tests {
		require.Equal(t, want, rate(v))
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		v, target float64
		atMost    bool
		want      string
	}{
		{0.85, 0.8, false, "met"},
		{0.8, 0.8, false, "met"},
		{0.7, 0.8, false, "**not met**"},
		{1.2, 1.5, true, "met"},
		{1.6, 1.5, true, "**not met**"},
		{math.NaN(), 1, true, "not measured"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, verdict(tt.v, tt.target, tt.atMost))
	}
}

func run(rate, p99 float64) ServerRun {
	return ServerRun{AckedPerSec: rate, P50: p99 / 4, P99: p99, ServerCPU: 1, RSSMiB: 40, HWMMiB: 45, SimCPU: 0.5, SentPerSimCPUSec: rate * 2}
}

func sampleReport() *Report {
	return &Report{
		Quick: true, Command: "BENCH_QUICK=1 scripts/bench.sh", Started: time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC),
		Elapsed: 150 * time.Second, Commit: "abc123-dirty",
		Machine: Machine{Cores: 2, CPUModel: "AMD EPYC", Kernel: "6.1.0", Disk: "/dev/sda1 ext4", LoadBefore: "20.1 19.0 18.5", LoadAfter: "21.0 20.0 19.0"},
		Ingest: &Ingest{Vehicles: 50, Warmup: 3 * time.Second, Measure: 15 * time.Second, Runs: 3, GatewaySetup: "fsync", SimCommand: "vehiclesim ...",
			Windows: []IngestWindow{
				{Window: 1, Ack: []ServerRun{run(10000, 10), run(12000, 12), run(11000, 11)}, Gateway: []ServerRun{run(9000, 14), run(9500, 15), run(8000, 13)}},
				{Window: 8, Ack: []ServerRun{run(20000, 40)}, Gateway: []ServerRun{run(10000, 80)}},
			}},
		Idle: &Idle{Target: 10000, Connected: 10000, BaselineKiB: 20 * 1024, RSSKiB: 20*1024 + 250000, FileLimit: 20000},
		WAL: Benches{{Command: "go test -bench Append", RawFile: "wal.txt", Summaries: []gobench.Summary{
			{Name: "BenchmarkAppend/sync=true/partitions=1/callers=16", Runs: 3, Median: map[string]float64{"records/s": 12345, "p99_ms": 4.5}},
		}}},
		Delivery: &Delivery{
			Benches: Benches{{Command: "go test -bench Kafka", RawFile: "kafka.txt", Err: "exit status 1",
				Summaries: []gobench.Summary{{Name: "BenchmarkKafkaWrite/batch=500", Runs: 1, Median: map[string]float64{"records/s": 250000}}}}},
			Replay: &Replay{Command: "forwarder replay", Delivered: 40000, Seconds: 0.5, RatePerSec: 80000},
			E2E:    &E2E{Vehicles: 50, RatePerVehicle: 20, Measure: 20 * time.Second, AckedPerSec: 1000, AckP50: 2.5, AckP99: 10, P50: 7.5, P90: 12, P99: 30, Delivered: 20000},
		},
		Curve:    &Curve{Vehicles: 50, Steps: []CurveStep{{RatePerVehicle: 20, Window: 8, Offered: 1000, AckedPerSec: 998, P50: 1, P99: 3}, {Window: 8, AckedPerSec: 9000}}, SVG: "load-curve.svg"},
		Failures: []Failure{{Section: "MQTT", Err: "mosquitto\nnot found"}},
	}
}

func TestRender(t *testing.T) {
	var b strings.Builder
	require.NoError(t, Render(&b, sampleReport()))
	out := b.String()
	for _, want := range []string{
		"**Quick run.**",
		"> **Loaded machine.** The 1-minute load average was 20.1 on 2 cores",
		"| commit | `abc123-dirty` |",
		"| CPU | 2 cores, AMD EPYC |",
		"before: 20.1 19.0 18.5; after: 21.0 20.0 19.0",
		"| 1 | **gateway** | **9,000** | 3.50 | 14.00 |",                 // medians of three runs
		"| 1 | 0.82 | ≥ 0.80: met | 1.27 | ≤ 1.5: met |",                 // 9000/11000, 14/11
		"| 8 | 0.50 | ≥ 0.75: **not met** | 2.00 | ≤ 1.5: **not met** |", // window 8 targets
		"reference fleet-telemetry, *measured elsewhere* | ~14,500 | ~6 | ~19 |",
		"| 10,000 of 10,000 | 20.0 MiB | 264.1 MiB | **25.0 KiB** | ≤ 32 KiB: met |",
		"| append, sync=true, partitions=1, callers=16 | 12,345 | – | 4.50 | – | – | 3 |",
		"(**failed**: exit status 1)",
		"| Kafka (kfake), batch=500 | 250,000 | – | 1 |",
		"**80,000 records/s**",
		"| logger | 1,000 | 1 | 1,000 | 2.50 | 10.00 | 20,000 | **7.5** | 12.0 | **30.0** |", // a report from before E2ERuns
		"| 1 | 11,000 | 2.75 | 11.00 | 0.50 | 1.00 | 22,000 |",
		"![ack latency and throughput against offered load](bench/load-curve.svg)",
		"| unpaced (window 8) | 9,000 |",
		"- MQTT: mosquitto not found",
		"## Reproducing",
	} {
		require.Contains(t, out, want)
	}
}

func TestRenderEmpty(t *testing.T) {
	var b strings.Builder
	require.NoError(t, Render(&b, &Report{}))
	require.Equal(t, 7, strings.Count(b.String(), "Not run."), "one per section")
	require.NotContains(t, b.String(), "Quick run")
	require.NotContains(t, b.String(), "Loaded machine")
	require.NotContains(t, b.String(), "## Not measured")
}

func TestIdlePerConn(t *testing.T) {
	require.InDelta(t, 0, Idle{}.PerConnKiB(), 1e-9)
	require.InDelta(t, 30, Idle{Connected: 10, BaselineKiB: 100, RSSKiB: 400}.PerConnKiB(), 1e-9)
}

func TestDeliveryLabel(t *testing.T) {
	tests := map[string]string{
		"BenchmarkKafkaWrite/batch=500/writers=4": "Kafka (kfake), batch=500, writers=4",
		"BenchmarkBacklog/partitions=1":           "pipeline ceiling: 1,000,000-record backlog → no-op sink, partitions=1",
		"BenchmarkLoggerWrite":                    "logger (file + fsync)",
		"BenchmarkNew/x=1":                        "BenchmarkNew, x=1",
	}
	for name, want := range tests {
		require.Equal(t, want, deliveryLabel(name))
	}
}

func TestFirstLoad(t *testing.T) {
	v, ok := firstLoad("1.50 2.00 3.00")
	require.True(t, ok)
	require.InDelta(t, 1.5, v, 1e-9)
	_, ok = firstLoad("")
	require.False(t, ok)
	_, ok = firstLoad("unknown")
	require.False(t, ok)
}

func TestRenderCodec(t *testing.T) {
	g := &GoBench{Command: "cd protos && go test -bench BenchmarkDecode ./envelope/", RawFile: "codec.txt"}
	var b strings.Builder
	renderCodec(&b, Benches{g})
	out := b.String()
	require.Contains(t, out, "## 7. Protocol codec and ingest")
	require.Contains(t, out, "[`bench/codec.txt`](bench/codec.txt)")
}

func TestRenderDrainAndE2ERuns(t *testing.T) {
	sum := func(name string, rate, perCPU float64) gobench.Summary {
		return gobench.Summary{Name: name, Runs: 3, Median: map[string]float64{"records/s": rate, "records/cpu-s": perCPU}}
	}
	d := &Delivery{
		Benches: Benches{
			{Command: "cd forwarder && go test -bench BenchmarkDrain", RawFile: "forwarder-drain.txt", Summaries: []gobench.Summary{
				sum("BenchmarkDrain/kafka/records=1000000/partitions=1", 123456, 60000),
				sum("BenchmarkDrain/kafka/records=1000000/partitions=4", 98765, 50000),
				sum("BenchmarkDrain/mqtt/records=20000/partitions=1", 1700, 3000),
			}},
			{Command: "cd forwarder && go test -bench Write", RawFile: "forwarder-sinks.txt", Summaries: []gobench.Summary{
				sum("BenchmarkKafkaWrite/batch=500/writers=1", 61000, 43000),
				sum("BenchmarkKafkaWrite/batch=500/writers=4", 172000, 109000),
			}},
		},
		E2ERuns: []*E2E{
			{Sink: "kafka", Window: 8, Vehicles: 50, RatePerVehicle: 100, Measure: 20 * time.Second, AckedPerSec: 4990, AckP50: 2, AckP99: 9,
				Delivered: 99800, P50: 8.5, P90: 20, P99: 45.25, Buckets: "0.005, 0.01"},
			{Sink: "logger", Window: 8, Vehicles: 50, RatePerVehicle: 40, Measure: 20 * time.Second, AckedPerSec: 1999, Delivered: 40000, P50: 6},
		},
	}
	var b strings.Builder
	renderDelivery(&b, d)
	out := b.String()
	for _, want := range []string{
		"[`bench/forwarder-drain.txt`](bench/forwarder-drain.txt)",
		"| Kafka (kfake, in process) | 1,000,000 | 1 | **123,456** | 60,000 | 172,000 (batch=500, writers=4) | 3 |",
		"| Kafka (kfake, in process) | 1,000,000 | 4 | **98,765** | 50,000 | 172,000 (batch=500, writers=4) | 3 |",
		"| MQTT (mosquitto, QoS 1) | 20,000 | 1 | **1,700** | 3,000 | – | 3 |",
		"Kafka from a 1,000,000-record backlog in one WAL partition: 123,456 records/s; target ≥ 100,000: met.",
		"| Kafka (kfake), batch=500, writers=4 | 172,000 | 109,000 | 3 |",
		"| kafka | 5,000 | 8 | 4,990 | 2.00 | 9.00 | 99,800 | **8.5** | 20.0 | **45.2** |",
		"| logger | 2,000 | 8 | 1,999 |",
		"buckets (0.005, 0.01 s)",
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "| WAL backlog → forwarder → datastore", "drain rows only in their own table")

	only := &Delivery{E2ERuns: d.E2ERuns}
	b.Reset()
	renderDelivery(&b, only)
	require.NotContains(t, b.String(), "| benchmark |", "no empty benchmark table")

	d.Benches[0].Summaries[0] = sum("BenchmarkDrain/kafka/records=1000000/partitions=1", 45000, 40000)
	b.Reset()
	renderDelivery(&b, d)
	require.Contains(t, b.String(), "45,000 records/s; target ≥ 100,000: **not met**.")
}
