package vehiclesim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Settings are the run's collaborators.
type Settings struct {
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
	// AckLog, if set, receives every acked record.
	AckLog *AckLog
	// OnReport receives each progress report (every Config.ReportInterval),
	// from a single goroutine.
	OnReport func(Report)
}

// Sim is a configured fleet. Run it once.
type Sim struct {
	cfg      Config
	set      Settings
	vehicles []*vehicle
}

// New validates cfg and prepares the fleet.
func New(cfg Config, set Settings) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TxIDPrefix == "" {
		cfg.TxIDPrefix = randomPrefix()
	}
	s := &Sim{cfg: cfg, set: set}
	for _, id := range cfg.Vehicles {
		s.vehicles = append(s.vehicles, newVehicle(id, &s.cfg, cfg.TxIDPrefix, set.AckLog, set.Logger))
	}
	return s, nil
}

// randomPrefix is 8 hex digits that keep txids of separate runs apart.
func randomPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return hex.EncodeToString(b[:])
}

// TxIDPrefix is the prefix of this run's txids ("<prefix>-<seq>").
func (s *Sim) TxIDPrefix() string {
	return s.cfg.TxIDPrefix
}

// Run streams until Config.Duration has passed or ctx ends, lets every
// vehicle drain its outstanding acks, and returns the final report (figures
// after the warm-up).
func (s *Sim) Run(ctx context.Context) Report {
	if s.cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Duration)
		defer cancel()
	}
	col := newCollector(s.vehicles, time.Now())
	var wg sync.WaitGroup
	for _, v := range s.vehicles {
		wg.Go(func() { v.run(ctx) })
	}
	stopped := make(chan struct{})
	reporting := make(chan struct{})
	go func() {
		defer close(reporting)
		col.loop(stopped, s.cfg.Warmup, s.cfg.ReportInterval, s.set.OnReport)
	}()
	wg.Wait()
	close(stopped)
	<-reporting
	return col.final(time.Now())
}

// collector turns vehicle statistics into reports. It is used by one
// goroutine at a time.
type collector struct {
	vehicles []*vehicle
	start    time.Time
	last     snapshot                // previous progress report
	warm     snapshot                // end of the warm-up
	interval *hdrhistogram.Histogram // latencies since the last collection
	total    *hdrhistogram.Histogram // latencies after the warm-up
	warmed   bool
}

func newCollector(vs []*vehicle, start time.Time) *collector {
	c := &collector{vehicles: vs, start: start, interval: newHistogram(), total: newHistogram()}
	c.last.at, c.warm.at = start, start
	c.last.cpu = processCPU()
	c.warm.cpu = c.last.cpu
	return c
}

// loop emits progress reports and marks the end of the warm-up until stopped closes.
func (c *collector) loop(stopped <-chan struct{}, warmup, every time.Duration, onReport func(Report)) {
	c.warmed = warmup == 0
	period := every
	if period <= 0 {
		period = time.Hour // no progress reports; the ticker just never matters
	}
	warmTimer, reportTick := time.NewTimer(max(warmup, 1)), time.NewTicker(period)
	defer warmTimer.Stop()
	defer reportTick.Stop()
	for {
		select {
		case <-stopped:
			return
		case now := <-warmTimer.C:
			if !c.warmed {
				c.endWarmup(now)
			}
		case now := <-reportTick.C:
			if every > 0 && onReport != nil {
				onReport(c.progress(now))
			}
		}
	}
}

// collect drains every vehicle's statistics into a snapshot; new latencies
// go to c.interval, and to c.total after the warm-up.
func (c *collector) collect(now time.Time) snapshot {
	snap := snapshot{at: now, cpu: processCPU()}
	c.interval.Reset()
	for _, v := range c.vehicles {
		v.stats.drain(&snap, c.interval)
	}
	if c.warmed {
		c.total.Merge(c.interval)
	}
	return snap
}

func (c *collector) endWarmup(now time.Time) {
	c.warm = c.collect(now)
	c.warmed = true
}

// progress is the report of the interval since the previous one.
func (c *collector) progress(now time.Time) Report {
	snap := c.collect(now)
	r := c.describe(newReport(snap.c.sub(c.last.c), now.Sub(c.last.at), snap.cpu-c.last.cpu, c.interval), snap)
	c.last = snap
	return r
}

// final is the report of the run after its warm-up.
func (c *collector) final(now time.Time) Report {
	if !c.warmed { // the run ended within the warm-up: report all of it
		c.warmed, c.warm.c = true, counters{}
	}
	snap := c.collect(now)
	r := c.describe(newReport(snap.c.sub(c.warm.c), now.Sub(c.warm.at), snap.cpu-c.warm.cpu, c.total), snap)
	r.Final = true
	return r
}

func (c *collector) describe(r Report, snap snapshot) Report {
	r.ElapsedSec = snap.at.Sub(c.start).Seconds()
	r.Vehicles, r.Connected, r.InFlight = len(c.vehicles), snap.connected, snap.inFlight
	return r
}
