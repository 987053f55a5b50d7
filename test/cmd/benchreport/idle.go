package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
)

// idleRate is each idle vehicle's record rate: one record per hour, so the
// connections stay open and quiet.
const idleRate = 1.0 / 3600

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
	connectTimeout := 3 * time.Minute
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
	l := load{vehicles: id.Target, window: 1, rate: idleRate, measure: connectTimeout + time.Hour}
	sim, err := start(filepath.Dir(gw.log), "vehiclesim", b.binary["vehiclesim"], l.args(gw.url, pki)...)
	if err != nil {
		return err
	}
	defer func() { _ = sim.stop(stopGrace) }() // its report is not needed
	fmt.Fprintf(raw, "# %s load average %s; open-file limit %d\n# simulator: vehiclesim %v\n", time.Now().UTC().Format(time.RFC3339),
		loadAverage(), id.FileLimit, l.args(gw.url, "PKI"))
	fmt.Fprintf(raw, "baseline_rss_kib=%.0f\n", id.BaselineKiB)
	t0 := time.Now()
	conns := 0.0
	for time.Since(t0) < connectTimeout && int(conns) < id.Target {
		if err := b.sleep(time.Second); err != nil {
			return err
		}
		if sim.exited() {
			return fmt.Errorf("simulator exited: %s", sim.tail())
		}
		ss, err := scrape(gw.metricsPort)
		if err != nil {
			return err
		}
		conns, _ = ss.Sum("fleetrelay_gateway_connections", nil)
		fmt.Fprintf(raw, "t=%.0fs connections=%.0f\n", time.Since(t0).Seconds(), conns)
	}
	id.ConnectSeconds = time.Since(t0).Seconds()
	if int(conns) < id.Target {
		id.Note += fmt.Sprintf(" Only %.0f of %d connections were open after %s.", conns, id.Target, connectTimeout)
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
	conns, _ = ss.Sum("fleetrelay_gateway_connections", nil)
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
