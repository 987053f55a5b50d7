package reliability

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
)

// Run executes the scenario and returns its report. The error is for a run
// that could not be carried out at all; a run that found losses returns a
// report whose Failed method is true.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, fmt.Errorf("reliability config: %w", err)
	}
	if cfg.CaughtUpLag == 0 {
		cfg.CaughtUpLag = uint64(cfg.Vehicles * cfg.Window)
	}
	rep := Report{Started: time.Now(), Vehicles: cfg.Vehicles, Window: cfg.Window, Rate: cfg.Rate, Sinks: cfg.Sinks}
	s, err := newSystem(cfg)
	if err != nil {
		return rep, err
	}
	defer s.shutdown()
	if err := s.setup(ctx); err != nil {
		return rep, err
	}
	s.progress("work dir %s", cfg.WorkDir)
	if err := s.startGateway(ctx); err != nil {
		return rep, err
	}
	index, err := newWALIndex(s.walDir)
	if err != nil {
		return rep, err
	}
	if s.hasSink("mqtt") {
		index.mqtt = map[string]int{}
	}
	for _, sink := range cfg.Sinks {
		if err := s.startForwarder(sink); err != nil {
			return rep, err
		}
	}
	if s.gwProxy, err = newProxy(0, s.gwAddr); err != nil {
		return rep, err
	}
	if err := s.startVehicles(); err != nil {
		return rep, err
	}

	tl := &timeline{s: s, index: index}
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tl.run(stopSampling, 50*time.Millisecond)
	}()
	defer func() {
		select {
		case <-stopSampling:
		default:
			close(stopSampling)
		}
		<-sampled
	}()

	hctx, stopHostile := context.WithCancel(ctx)
	hostileDone := make(chan struct{})
	var hc *hostile
	if cfg.Hostile {
		hc, err = newHostile(s.pki, s.gwAddr, devpki.GeneratedVINs(cfg.Vehicles + 1)[cfg.Vehicles])
		if err != nil {
			stopHostile()
			return rep, err
		}
		go func() {
			defer close(hostileDone)
			hc.run(hctx, time.Second)
		}()
	} else {
		close(hostileDone)
	}

	faults, runErr := s.faultPhase(ctx, tl, rep.Started)
	stopHostile()
	<-hostileDone
	rep.Duration = time.Since(rep.Started).Round(time.Second).String()
	if runErr == nil {
		runErr = s.settle(ctx, tl)
	}
	close(stopSampling)
	<-sampled
	if err := index.poll(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if runErr != nil {
		rep.Problems = append(rep.Problems, runErr.Error())
	}
	rep.Problems = append(rep.Problems, s.checkAlive()...)
	if s.hasSink("mqtt") {
		rep.Problems = append(rep.Problems, s.mosquittoErrors()...)
	}
	for _, err := range tl.errs {
		rep.Problems = append(rep.Problems, "sampling: "+err.Error())
	}
	samples := tl.snapshot()
	for i, f := range faults {
		end := time.Now()
		if i+1 < len(faults) {
			end = faults[i+1].start
		}
		resumed, caught, gap := recovery(samples, f.start, f.lifted, end, f.caughtUp)
		rep.Faults = append(rep.Faults, FaultResult{
			Kind: f.kind, Target: f.target, At: f.start.Sub(rep.Started).Round(100 * time.Millisecond).String(),
			Triggered: f.triggered, Note: f.note,
			AcksResumedMs: msOf(resumed), CaughtUpMs: msOf(caught), LongestAckGapMs: gap.Milliseconds(),
		})
	}
	for _, smp := range samples {
		rep.PeakWALBytes = max(rep.PeakWALBytes, smp.walBytes)
	}
	if hc != nil {
		rep.Hostile = hc.results()
	}
	if err := s.verify(ctx, index, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

func msOf(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return d.Milliseconds()
}

// faultPhase injects the faults on schedule until the configured duration
// has passed and every configured fault has had its turn at least once (a
// slow recovery must not crowd the last faults out of a short run), then
// stops the vehicles (they drain their outstanding acks).
func (s *system) faultPhase(ctx context.Context, tl *timeline, started time.Time) ([]injected, error) {
	end := started.Add(s.cfg.Duration)
	var faults []injected
	next := started.Add(min(3*time.Second, s.cfg.FaultEvery))
	counts := map[string]int{}
	for i := 0; ctx.Err() == nil; {
		if died := s.checkAlive(); len(died) > 0 {
			return faults, errors.New("a process died; faults stopped")
		}
		if time.Now().After(end) && i >= len(s.cfg.Faults) {
			break
		}
		if len(s.cfg.Faults) == 0 || time.Now().Before(next) {
			sleep(ctx, 50*time.Millisecond)
			continue
		}
		kind := s.cfg.Faults[i%len(s.cfg.Faults)]
		i++
		s.progress("fault %s", kind)
		f, err := s.inject(ctx, tl, kind, counts[kind])
		counts[kind]++
		faults = append(faults, f)
		if err != nil {
			return faults, err
		}
		if !s.waitRecovered(ctx, tl, f, 60*time.Second) {
			s.progress("fault %s: not recovered within 60s", kind)
		}
		next = time.Now().Add(s.cfg.FaultEvery)
	}
	s.progress("stopping vehicles")
	if err := s.stopRole("vehicles", 60*time.Second); err != nil {
		return faults, fmt.Errorf("vehicles: %w", err)
	}
	return faults, ctx.Err()
}

// settle waits until every sink has delivered the whole WAL.
func (s *system) settle(ctx context.Context, tl *timeline) error {
	s.progress("waiting for delivery")
	deadline := time.Now().Add(s.cfg.SettleTimeout)
	for time.Now().Before(deadline) {
		if died := s.checkAlive(); len(died) > 0 {
			return errors.New("a process died while delivery was awaited")
		}
		smp := tl.take()
		if lagUnder(smp.lag, nil) {
			return nil
		}
		sleep(ctx, 200*time.Millisecond)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	smp, _ := tl.last()
	return fmt.Errorf("sinks still behind after %s: lag %v", s.cfg.SettleTimeout, smp.lag)
}
