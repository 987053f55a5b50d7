package vehiclesim

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histogram range: 1 µs to 60 s at 3 significant digits.
const (
	minLatencyMicros = 1
	maxLatencyMicros = 60_000_000
	latencyDigits    = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(minLatencyMicros, maxLatencyMicros, latencyDigits)
}

// counters are one vehicle's (or the fleet's) event counts.
type counters struct {
	Sent       int64 // first transmissions of records
	Acked      int64 // records settled by an ack
	Errors     int64 // records settled by an error frame
	Resends    int64 // retransmissions (timeout or reconnect)
	Reconnects int64 // connections established after the first
	DialErrors int64 // failed connection attempts
	StrayAcks  int64 // answers for no record in flight (late or duplicate)
}

func (c *counters) add(o counters) {
	c.Sent += o.Sent
	c.Acked += o.Acked
	c.Errors += o.Errors
	c.Resends += o.Resends
	c.Reconnects += o.Reconnects
	c.DialErrors += o.DialErrors
	c.StrayAcks += o.StrayAcks
}

func (c counters) sub(o counters) counters {
	return counters{
		Sent: c.Sent - o.Sent, Acked: c.Acked - o.Acked, Errors: c.Errors - o.Errors,
		Resends: c.Resends - o.Resends, Reconnects: c.Reconnects - o.Reconnects,
		DialErrors: c.DialErrors - o.DialErrors, StrayAcks: c.StrayAcks - o.StrayAcks,
	}
}

// vehicleStats is one vehicle's counters and the ack latencies recorded
// since the collector last took them. The vehicle's reader and sender
// goroutines update it; the collector reads it.
type vehicleStats struct {
	mu        sync.Mutex
	c         counters
	inFlight  int
	connected bool
	latency   *hdrhistogram.Histogram
}

func newVehicleStats() *vehicleStats {
	return &vehicleStats{latency: newHistogram()}
}

func (s *vehicleStats) update(f func(*counters)) {
	s.mu.Lock()
	f(&s.c)
	s.mu.Unlock()
}

// sent counts a first transmission.
func (s *vehicleStats) sent(inFlight int) {
	s.mu.Lock()
	s.c.Sent++
	s.inFlight = inFlight
	s.mu.Unlock()
}

// settled records an answered record and its latency.
func (s *vehicleStats) settled(acked bool, latency time.Duration, inFlight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight = inFlight
	if !acked {
		s.c.Errors++
		return
	}
	s.c.Acked++
	_ = s.latency.RecordValue(max(latency.Microseconds(), minLatencyMicros)) // values above the range are dropped
}

func (s *vehicleStats) setConnected(up bool) {
	s.mu.Lock()
	s.connected = up
	s.mu.Unlock()
}

// drain adds the vehicle's state to a fleet snapshot and moves its latencies
// into hist.
func (s *vehicleStats) drain(snap *snapshot, hist *hdrhistogram.Histogram) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap.c.add(s.c)
	snap.inFlight += s.inFlight
	if s.connected {
		snap.connected++
	}
	hist.Merge(s.latency)
	s.latency.Reset()
}

// snapshot is the fleet's state at one instant.
type snapshot struct {
	at        time.Time
	cpu       time.Duration // process CPU time
	c         counters
	inFlight  int
	connected int
}
