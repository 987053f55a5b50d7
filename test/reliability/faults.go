package reliability

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// injected is one fault as it happened.
type injected struct {
	kind, target string
	start        time.Time // fault injected
	lifted       time.Time // fault removed (process restarted, datastore fast again)
	triggered    bool      // the fault produced its intended condition
	note         string
	// caughtUp is each sink's lag at or under which it has recovered.
	caughtUp map[string]uint64
}

// inject runs fault number n of kind: it injects the fault, holds it, and
// lifts it. It returns when the fault is lifted.
func (s *system) inject(ctx context.Context, tl *timeline, kind string, n int) (injected, error) {
	f := injected{kind: kind, start: time.Now(), triggered: true}
	f.caughtUp = caughtUpLags(tl.snapshot(), f.start, s.cfg.Sinks, s.cfg.CaughtUpLag)
	var err error
	switch kind {
	case FaultGatewayKill:
		f.target = "gateway"
		s.kill("gateway")
		sleep(ctx, 300*time.Millisecond)
		f.lifted = time.Now()
		err = s.startGateway(ctx)
	case FaultForwarderKill:
		sink := s.cfg.Sinks[n%len(s.cfg.Sinks)]
		f.target = forwarderRole(sink)
		s.kill(f.target)
		sleep(ctx, 1*time.Second)
		f.lifted = time.Now()
		err = s.startForwarder(sink)
	case FaultKafkaKill:
		f.target = "kafka"
		s.kill("kafka")
		sleep(ctx, 2*time.Second)
		f.lifted = time.Now()
		err = s.startKafka(ctx)
	case FaultKafkaSlow:
		f.target = "kafka"
		if err = s.proc("kafka").signal(syscall.SIGUSR1); err != nil {
			break
		}
		sleep(ctx, 5*time.Second)
		f.lifted = time.Now()
		err = s.proc("kafka").signal(syscall.SIGUSR2)
	case FaultMQTTRestart:
		f.target = "mqtt"
		if err = s.stopRole("mqtt", 10*time.Second); err != nil {
			break
		}
		sleep(ctx, 2*time.Second)
		f.lifted = time.Now()
		err = s.startMosquitto(ctx)
	case FaultReconnectStorm:
		f.target = "vehicles"
		f.note = fmt.Sprintf("%d connections cut", s.gwProxy.Cut())
		f.lifted = time.Now()
	case FaultDiskBudget:
		sink := s.cfg.Sinks[n%len(s.cfg.Sinks)]
		f.target = forwarderRole(sink)
		s.kill(f.target)
		// Hold until the gateway has stopped acking for a while (the WAL
		// is at its budget) or give up.
		deadline := time.Now().Add(90 * time.Second)
		f.triggered = false
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if tl.ackStalledFor() >= 2*time.Second {
				f.triggered = true
				break
			}
			sleep(ctx, 100*time.Millisecond)
		}
		last, _ := tl.last()
		f.note = fmt.Sprintf("WAL %d KiB of a %d KiB budget when the forwarder restarted", last.walBytes>>10, s.cfg.WALBudgetBytes>>10)
		if !f.triggered {
			f.note = "acks never stopped: " + f.note
		}
		f.lifted = time.Now()
		err = s.startForwarder(sink)
	default:
		err = fmt.Errorf("unknown fault %q", kind)
	}
	if err != nil {
		return f, fmt.Errorf("fault %s: %w", kind, err)
	}
	return f, nil
}

// waitRecovered waits until acks have grown since the fault was lifted and
// every sink's lag is at or under its caught-up lag, or until timeout.
func (s *system) waitRecovered(ctx context.Context, tl *timeline, f injected, timeout time.Duration) bool {
	lifted := f.lifted
	deadline := time.Now().Add(timeout)
	var base int64 = -1
	for time.Now().Before(deadline) && ctx.Err() == nil {
		smp, ok := tl.last()
		if ok && smp.at.After(lifted) {
			if base < 0 {
				base = smp.ackBytes
			} else if smp.ackBytes > base && lagUnder(smp.lag, f.caughtUp) {
				return true
			}
		}
		sleep(ctx, 50*time.Millisecond)
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
