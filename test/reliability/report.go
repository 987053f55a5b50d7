package reliability

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is the outcome of a scenario.
type Report struct {
	Started  time.Time `json:"started"`
	Duration string    `json:"duration"`
	Vehicles int       `json:"vehicles"`
	Window   int       `json:"window"`
	Rate     float64   `json:"rate_per_vehicle"`
	Sinks    []string  `json:"sinks"`

	// Acked is the number of distinct records the vehicles saw acked.
	Acked int `json:"acked"`
	// WALEntries is the number of WAL entries read (resent records can be
	// stored more than once); WALUnread is entries retention deleted
	// before they could be read.
	WALEntries int    `json:"wal_entries"`
	WALUnread  uint64 `json:"wal_unread"`
	// MissingFromWAL is acked records absent from the WAL.
	MissingFromWAL int `json:"missing_from_wal"`
	// HostileStored is records with a hostile txid found in the WAL.
	HostileStored int `json:"hostile_stored"`
	// PeakWALBytes is the largest WAL size sampled.
	PeakWALBytes int64 `json:"peak_wal_bytes"`

	SinkResults []SinkResult   `json:"sinks_results"`
	Faults      []FaultResult  `json:"faults"`
	Hostile     []HostileStats `json:"hostile"`
	// Problems are failures of the run itself (processes that died,
	// delivery that did not finish, sampling errors).
	Problems []string `json:"problems,omitempty"`
}

// SinkResult is what one datastore received.
type SinkResult struct {
	Sink string `json:"sink"`
	// Messages is every message read back; Distinct is distinct records.
	Messages int `json:"messages"`
	Distinct int `json:"distinct"`
	// Lost is acked records never delivered (must be 0). For mqtt, whose
	// messages carry no txid, counts are of messages per MQTT topic: Lost
	// is messages missing against what the WAL's records call for,
	// Distinct the messages matched, Duplicates the extra ones and
	// Unmapped messages on topics no record calls for.
	Lost       int      `json:"lost"`
	LostSample []string `json:"lost_sample,omitempty"`
	// Duplicates is Messages minus Distinct; DuplicateRate is per message.
	Duplicates    int     `json:"duplicates"`
	DuplicateRate float64 `json:"duplicate_rate"`
	// OrderViolations counts records first delivered after a record that
	// follows them in the WAL (same VIN).
	OrderViolations int      `json:"order_violations"`
	OrderSample     []string `json:"order_sample,omitempty"`
	// Unmapped is messages whose record is not in the WAL index; Mismatched
	// is messages whose record_id names a WAL entry holding another record.
	Unmapped   int `json:"unmapped"`
	Mismatched int `json:"mismatched"`
	// UndeliveredWAL is WAL entries (acked or not) never delivered: by WAL
	// position when the messages carry it (Kafka), else by record.
	UndeliveredWAL int `json:"undelivered_wal"`
	// Torn is output lines cut by a SIGKILL (logger sink only).
	Torn int `json:"torn,omitempty"`
}

// FaultResult is one injected fault and how the system recovered.
type FaultResult struct {
	Kind      string `json:"kind"`
	Target    string `json:"target"`
	At        string `json:"at"` // offset from the start of the run
	Triggered bool   `json:"triggered"`
	Note      string `json:"note,omitempty"`
	// AcksResumedMs is the time from lifting the fault to the next ack
	// (-1: none seen); CaughtUpMs the time until every sink's lag was back
	// at or under the larger of the caught-up threshold and its highest lag
	// in the 3 s before the fault; LongestAckGapMs the longest time
	// without any ack from injection until recovery.
	AcksResumedMs   int64 `json:"acks_resumed_ms"`
	CaughtUpMs      int64 `json:"caught_up_ms"`
	LongestAckGapMs int64 `json:"longest_ack_gap_ms"`
}

// Lost is the number of acked records missing from any sink or the WAL.
func (r Report) Lost() int {
	n := r.MissingFromWAL
	for _, s := range r.SinkResults {
		n += s.Lost
	}
	return n
}

// Failed reports whether the promise was broken or the run was not valid:
// anything lost, out of order, hostile accepted or stored, a fault not
// triggered, or a problem with the run.
func (r Report) Failed() bool {
	if r.Lost() > 0 || r.HostileStored > 0 || len(r.Problems) > 0 {
		return true
	}
	for _, s := range r.SinkResults {
		if s.OrderViolations > 0 || s.Mismatched > 0 || s.Unmapped > 0 || s.UndeliveredWAL > 0 {
			return true
		}
	}
	for _, h := range r.Hostile {
		if h.Accepted > 0 {
			return true
		}
	}
	for _, f := range r.Faults {
		if !f.Triggered {
			return true
		}
	}
	return false
}

// WriteText writes the human-readable summary.
func (r Report) WriteText(w io.Writer) {
	verdict := "PASS"
	if r.Failed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "fleetrelay reliability run %s: %s, %d vehicles (window %d, %.0f rec/s each), sinks %s\n",
		r.Started.UTC().Format(time.RFC3339), r.Duration, r.Vehicles, r.Window, r.Rate, strings.Join(r.Sinks, ","))
	fmt.Fprintf(w, "acked %d records; WAL %d entries (%d unread), acked missing from WAL %d, peak WAL %d KiB\n",
		r.Acked, r.WALEntries, r.WALUnread, r.MissingFromWAL, r.PeakWALBytes>>10)
	fmt.Fprintf(w, "%-8s %9s %9s %6s %10s %8s %8s %8s %8s\n", "sink", "messages", "distinct", "lost", "duplicates", "dup%", "order", "unmapped", "wal-undl")
	for _, s := range r.SinkResults {
		fmt.Fprintf(w, "%-8s %9d %9d %6d %10d %7.2f%% %8d %8d %8d\n", s.Sink, s.Messages, s.Distinct, s.Lost,
			s.Duplicates, 100*s.DuplicateRate, s.OrderViolations, s.Unmapped+s.Mismatched, s.UndeliveredWAL)
		for _, l := range s.LostSample {
			fmt.Fprintf(w, "  lost: %s\n", l)
		}
		for _, l := range s.OrderSample {
			fmt.Fprintf(w, "  out of order: %s\n", l)
		}
	}
	fmt.Fprintf(w, "faults (%d): acks resumed / caught up (lag) / longest ack gap\n", len(r.Faults))
	for _, f := range r.Faults {
		mark := ""
		if !f.Triggered {
			mark = " NOT TRIGGERED"
		}
		fmt.Fprintf(w, "  %8s %-16s %-20s %8s %8s %8s%s %s\n", f.At, f.Kind, f.Target, ms(f.AcksResumedMs),
			ms(f.CaughtUpMs), ms(f.LongestAckGapMs), mark, f.Note)
	}
	fmt.Fprintf(w, "hostile clients (hostile records stored in the WAL: %d):\n", r.HostileStored)
	for _, h := range r.Hostile {
		fmt.Fprintf(w, "  %-20s attempted %4d refused %4d accepted %d (unreachable %d)", h.Kind, h.Attempted, h.Refused, h.Accepted, h.Unreachable)
		if h.Accepted > 0 {
			fmt.Fprintf(w, " e.g. %s", h.Example)
		}
		fmt.Fprintln(w)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	fmt.Fprintf(w, "%s: lost %d\n", verdict, r.Lost())
}

func ms(v int64) string {
	if v < 0 {
		return "never"
	}
	return (time.Duration(v) * time.Millisecond).String()
}
