package vehiclesim

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Report is the simulator's figures for one period: an interval for a
// progress report, or the run after its warm-up for the final report.
type Report struct {
	Final      bool    `json:"final"`
	ElapsedSec float64 `json:"elapsed_sec"` // since the run started
	PeriodSec  float64 `json:"period_sec"`  // what the rates cover
	Vehicles   int     `json:"vehicles"`
	Connected  int     `json:"connected"`
	InFlight   int     `json:"in_flight"` // records sent and not yet answered

	Sent       int64 `json:"sent"`
	Acked      int64 `json:"acked"`
	Errors     int64 `json:"errors"`
	Resends    int64 `json:"resends"`
	Reconnects int64 `json:"reconnects"`
	DialErrors int64 `json:"dial_errors"`
	StrayAcks  int64 `json:"stray_acks"`

	AckedPerSec float64 `json:"acked_per_sec"`
	SentPerSec  float64 `json:"sent_per_sec"`
	Latency     Latency `json:"latency_ms"`

	// CPUSec is the CPU time the whole process used in the period; with the
	// simulator alone in its process, SentPerCPUSec is the rate one core
	// could offer.
	CPUSec        float64 `json:"cpu_sec"`
	SentPerCPUSec float64 `json:"sent_per_cpu_sec"`
}

// Latency summarises ack latencies in milliseconds: from the (latest)
// transmission of a record to its ack.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	ms := func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }
	return Latency{Count: h.TotalCount(), P50: ms(50), P90: ms(90), P99: ms(99), Max: float64(h.Max()) / 1000}
}

// newReport derives a report from the counters of a period.
func newReport(c counters, period, cpu time.Duration, h *hdrhistogram.Histogram) Report {
	r := Report{
		PeriodSec: period.Seconds(), Sent: c.Sent, Acked: c.Acked, Errors: c.Errors, Resends: c.Resends,
		Reconnects: c.Reconnects, DialErrors: c.DialErrors, StrayAcks: c.StrayAcks, Latency: latencyOf(h),
	}
	if s := period.Seconds(); s > 0 {
		r.AckedPerSec = float64(c.Acked) / s
		r.SentPerSec = float64(c.Sent) / s
	}
	if r.CPUSec = cpu.Seconds(); r.CPUSec > 0 {
		r.SentPerCPUSec = float64(c.Sent) / r.CPUSec
	}
	return r
}

// WriteText writes the report as one human-readable line.
func (r Report) WriteText(w io.Writer) error {
	kind := "interval"
	if r.Final {
		kind = "final"
	}
	_, err := fmt.Fprintf(w, "%-8s t=%6.1fs period=%5.1fs vehicles=%d connected=%d in_flight=%d "+
		"acked=%d (%.0f/s) sent=%d (%.0f/s) errors=%d resends=%d reconnects=%d dial_errors=%d stray_acks=%d "+
		"latency_ms p50=%.2f p90=%.2f p99=%.2f max=%.2f cpu_sec=%.2f sent_per_cpu_sec=%.0f\n",
		kind, r.ElapsedSec, r.PeriodSec, r.Vehicles, r.Connected, r.InFlight,
		r.Acked, r.AckedPerSec, r.Sent, r.SentPerSec, r.Errors, r.Resends, r.Reconnects, r.DialErrors, r.StrayAcks,
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.CPUSec, r.SentPerCPUSec)
	return err
}

// WriteJSON writes the report as one JSON line.
func (r Report) WriteJSON(w io.Writer) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("vehiclesim: encode report: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}
