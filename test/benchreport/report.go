package benchreport

import (
	"time"

	"github.com/fleetrelay/fleetrelay/test/benchreport/gobench"
)

// Report is everything one benchmark run measured. A nil section was not
// run; a section that failed carries its error in Failures.
type Report struct {
	// Quick marks a short run (fewer, shorter runs; smaller N).
	Quick bool
	// Command is the exact command line that produced the report.
	Command string
	// Started and Elapsed bound the whole run.
	Started time.Time
	Elapsed time.Duration
	// Commit is the git commit, with "-dirty" when the tree had changes.
	Commit  string
	Machine Machine

	Ingest   *Ingest
	Idle     *Idle
	WAL      Benches
	Codec    Benches
	Delivery *Delivery
	Curve    *Curve
	// Failures names each section that could not be measured and why.
	Failures []Failure
}

// Failure is a section that could not be measured.
type Failure struct {
	Section string
	Err     string
}

// Machine describes where the figures were measured.
type Machine struct {
	Cores    int
	CPUModel string
	Kernel   string
	MemTotal string
	// Disk is the device, filesystem and model under the temporary
	// directory the WALs were written to.
	Disk string
	// LoadBefore and LoadAfter are /proc/loadavg at the start and the end.
	LoadBefore, LoadAfter string
	GoVersion             string
}

// Ingest compares the gateway with the trivial ack server under the same
// simulator load.
type Ingest struct {
	Vehicles   int
	Warmup     time.Duration
	Measure    time.Duration
	Runs       int
	Partitions int
	// GatewaySetup says how the gateway ran (durability, sinks, logging).
	GatewaySetup string
	// SimCommand is the simulator's command line (with placeholders).
	SimCommand string
	Windows    []IngestWindow
}

// IngestWindow is every run at one window size.
type IngestWindow struct {
	Window       int
	Ack, Gateway []ServerRun
}

// ServerRun is one measured simulator run against one server.
type ServerRun struct {
	AckedPerSec float64
	P50, P90    float64 // ack latency, ms
	P99, Max    float64
	Errors      int64
	Resends     int64
	// ServerCPU is the server's user+system CPU seconds per second of the
	// measured period (1.0 = one core).
	ServerCPU float64
	// RSSMiB is the server's resident set at the end of the run, HWMMiB its
	// peak.
	RSSMiB, HWMMiB float64
	// SimCPU is the simulator's CPU seconds per second of the period.
	SimCPU float64
	// SentPerSimCPUSec is records sent per simulator CPU-second.
	SentPerSimCPUSec float64
	// RecordsPerCommit is the gateway's mean records per WAL group commit
	// (0 for the ack server).
	RecordsPerCommit float64
}

// Idle is the gateway's memory per idle vehicle connection.
type Idle struct {
	Target    int
	Connected int
	// BaselineKiB is the gateway's RSS before any connection; RSSKiB with
	// every connection open and settled.
	BaselineKiB, RSSKiB float64
	HeapInuseKiB        float64
	StackInuseKiB       float64
	ConnectSeconds      float64
	FileLimit           uint64
	Note                string
}

// PerConnKiB is the RSS growth per connection.
func (i Idle) PerConnKiB() float64 {
	if i.Connected == 0 {
		return 0
	}
	return (i.RSSKiB - i.BaselineKiB) / float64(i.Connected)
}

// GoBench is one `go test -bench` invocation and its per-benchmark medians.
type GoBench struct {
	Command   string
	RawFile   string
	Summaries []gobench.Summary
	// Err is set when the invocation failed (partial results may remain).
	Err string
}

// Find returns the named benchmark's medians.
func (g *GoBench) Find(name string) (gobench.Summary, bool) {
	if g == nil {
		return gobench.Summary{}, false
	}
	return gobench.Find(g.Summaries, name)
}

// Benches are several `go test -bench` invocations.
type Benches []*GoBench

// Find returns the named benchmark's medians from the first invocation
// that has it.
func (bs Benches) Find(name string) (gobench.Summary, bool) {
	for _, g := range bs {
		if s, ok := g.Find(name); ok {
			return s, true
		}
	}
	return gobench.Summary{}, false
}

// Delivery is what the forwarders deliver.
type Delivery struct {
	Benches Benches
	Replay  *Replay
	// E2E is the single end-to-end run of reports written before E2ERuns.
	E2E *E2E `json:",omitempty"`
	// E2ERuns are the end-to-end runs, one per sink and offered rate.
	E2ERuns []*E2E
}

// Replay is `forwarder replay` of a WAL to the logger sink.
type Replay struct {
	Command    string
	Delivered  int64
	Seconds    float64
	RatePerSec float64
}

// E2E is vehicle-to-datastore latency at a steady offered rate: the
// gateway and a forwarder with one sink.
type E2E struct {
	// Sink is the forwarder's sink ("kafka" into kfakesrv, "logger" into a
	// file); empty in older reports, where it was the logger.
	Sink string
	// Window is the simulator's records in flight per vehicle (0 in older
	// reports, where it was 1).
	Window         int
	Vehicles       int
	RatePerVehicle float64
	Measure        time.Duration
	AckedPerSec    float64
	AckP50, AckP99 float64 // ms
	// Delivered is the forwarder's count of confirmed records.
	Delivered int64
	// P50, P90, P99 are from the forwarder's delivery latency histogram
	// (gateway receive → sink confirmation), interpolated inside buckets.
	P50, P90, P99 float64 // ms
	Buckets       string
}

// Curve is ack latency and throughput under increasing offered load.
type Curve struct {
	Vehicles int
	Warmup   time.Duration
	Measure  time.Duration
	Steps    []CurveStep
	SVG      string
}

// CurveStep is one load level.
type CurveStep struct {
	RatePerVehicle float64 // 0 = unpaced (as fast as the window allows)
	Window         int
	Offered        float64 // records/s; 0 when unpaced
	AckedPerSec    float64
	P50, P99       float64 // ms
	GatewayCPU     float64
}
