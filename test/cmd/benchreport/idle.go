package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
)

// idle measures the gateway's RSS growth per idle vehicle connection.
func (b *bench) idle() error {
	id := &benchreport.Idle{Target: b.o.idle}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		id.FileLimit = lim.Max
		// Each process needs a descriptor per connection plus its own files.
		if limit := int(lim.Max) - 200; id.Target > limit {
			id.Note = fmt.Sprintf("Reduced from %d connections to %d: the hard open-file limit is %d.", id.Target, limit, lim.Max)
			id.Target = limit
		}
	}
	connectTimeout := 5 * time.Minute
	if b.o.quick {
		connectTimeout = time.Minute
	}
	pki, err := b.pki(id.Target)
	if err != nil {
		return err
	}
	gw, err := b.startGateway("idle", pki, id.Target+100)
	if err != nil {
		return err
	}
	b.rep.Idle = id
	err = b.idleRun(id, gw, pki, connectTimeout)
	return errors.Join(err, gw.stop(stopGrace))
}

func (b *bench) idleRun(id *benchreport.Idle, gw *server, pki string, connectTimeout time.Duration) error {
	raw, err := b.rawFile("idle.txt")
	if err != nil {
		return err
	}
	defer func() { _ = raw.Close() }()
	if err := b.sleep(2 * time.Second); err != nil {
		return err
	}
	if id.BaselineKiB, _, err = memKiB(gw.pid()); err != nil {
		return err
	}
	fmt.Fprintf(raw, "# %s load average %s; open-file limit %d; %d handshakes at a time, idle connections held by benchreport\n",
		time.Now().UTC().Format(time.RFC3339), loadAverage(), id.FileLimit, idleDialConcurrency)
	fmt.Fprintf(raw, "baseline_rss_kib=%.0f\n", id.BaselineKiB)
	ctx, cancel := context.WithTimeout(b.ctx, connectTimeout)
	defer cancel()
	t0 := time.Now()
	var mu sync.Mutex
	lastLog := t0
	fleet, err := dialIdle(ctx, gw.url, pki, id.Target, func(open, failed int) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(lastLog) >= 5*time.Second || open+failed == id.Target {
			lastLog = time.Now()
			fmt.Fprintf(raw, "t=%.0fs open=%d failed=%d\n", time.Since(t0).Seconds(), open, failed)
		}
	})
	if fleet != nil {
		defer func() { _ = fleet.close() }() // the figures are taken by then
	}
	id.ConnectSeconds = time.Since(t0).Seconds()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if open := fleet.open(); open < id.Target {
		id.Note += fmt.Sprintf(" Only %d of %d connections opened within %s (last error: %v).", open, id.Target, connectTimeout, fleet.lastErr())
	}
	// Let handshake garbage be collected and the runtime settle.
	settle := 10 * time.Second
	if b.o.quick {
		settle = 5 * time.Second
	}
	if err := b.sleep(settle); err != nil {
		return err
	}
	ss, err := scrape(gw.metricsPort)
	if err != nil {
		return err
	}
	conns, _ := ss.Sum("fleetrelay_gateway_connections", nil)
	id.Connected = int(conns)
	heap, _ := ss.Sum("go_memstats_heap_inuse_bytes", nil)
	stack, _ := ss.Sum("go_memstats_stack_inuse_bytes", nil)
	id.HeapInuseKiB, id.StackInuseKiB = heap/1024, stack/1024
	if id.RSSKiB, _, err = memKiB(gw.pid()); err != nil {
		return err
	}
	fmt.Fprintf(raw, "connections=%d rss_kib=%.0f per_connection_kib=%.1f heap_inuse_kib=%.0f stack_inuse_kib=%.0f\n",
		id.Connected, id.RSSKiB, id.PerConnKiB(), id.HeapInuseKiB, id.StackInuseKiB)
	b.logf("idle: %d connections, %.1f KiB each", id.Connected, id.PerConnKiB())
	if id.Connected == 0 {
		return errors.New("no connection opened")
	}
	if _, err := os.Stat(gw.walDir); err != nil {
		return fmt.Errorf("gateway WAL: %w", err)
	}
	return nil
}
