package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
)

// ingestVehicles is the reference measurement's client count.
const ingestVehicles = 50

// ingest compares the gateway with the ack server at window 1 and 8.
func (b *bench) ingest() error {
	in := &benchreport.Ingest{Vehicles: ingestVehicles, Warmup: 3 * time.Second, Measure: 15 * time.Second, Runs: b.o.runs,
		Partitions: 1, GatewaySetup: gatewaySetup}
	if b.o.quick {
		in.Warmup, in.Measure = time.Second, 5*time.Second
	}
	pki, err := b.pki(ingestVehicles)
	if err != nil {
		return err
	}
	raw, err := b.rawFile("ingest.txt")
	if err != nil {
		return err
	}
	defer func() { _ = raw.Close() }()
	in.SimCommand = strings.Join(append([]string{"vehiclesim"}, load{vehicles: ingestVehicles, window: 0, warmup: in.Warmup, measure: in.Measure}.args("wss://127.0.0.1:PORT/", "PKI")...), " ")
	in.SimCommand = strings.Replace(in.SimCommand, "-window 0", "-window W", 1)
	b.rep.Ingest = in
	fmt.Fprintf(raw, "# %s load average %s; %d vehicles, %s warm-up, %s measured, %d runs per server and window\n",
		time.Now().UTC().Format(time.RFC3339), loadAverage(), in.Vehicles, in.Warmup, in.Measure, in.Runs)
	fmt.Fprintf(raw, "# %-6s %-8s %-3s %10s %8s %8s %8s %9s %8s %8s %9s %s\n", "window", "server", "run", "acked/s", "p50_ms",
		"p99_ms", "max_ms", "srv_cores", "rss_mib", "sim_cores", "rec/fsync", "simulator final report")
	var errs []error
	for _, w := range []int{1, 8} {
		iw := benchreport.IngestWindow{Window: w}
		for r := 1; r <= in.Runs; r++ {
			for _, kind := range []string{"ack", "gateway"} {
				m, err := b.ingestRun(kind, pki, load{vehicles: in.Vehicles, window: w, warmup: in.Warmup, measure: in.Measure})
				if err != nil {
					errs = append(errs, fmt.Errorf("window %d run %d %s: %w", w, r, kind, err))
					continue
				}
				writeRun(raw, w, kind, r, m)
				if kind == "ack" {
					iw.Ack = append(iw.Ack, m.serverRun())
				} else {
					iw.Gateway = append(iw.Gateway, m.serverRun())
				}
				b.logf("ingest window %d run %d %s: %.0f acked/s p99 %.1f ms", w, r, kind, m.sim.AckedPerSec, m.sim.Latency.P99)
			}
		}
		in.Windows = append(in.Windows, iw)
	}
	return errors.Join(errs...)
}

func (b *bench) ingestRun(kind, pki string, l load) (measured, error) {
	var srv *server
	var err error
	if kind == "ack" {
		srv, err = b.startAckServer(pki)
	} else {
		srv, err = b.startGateway("ingest", pki, 0)
	}
	if err != nil {
		return measured{}, err
	}
	m, err := b.drive(srv, pki, l)
	return m, errors.Join(err, srv.stop(stopGrace))
}

func writeRun(w io.Writer, window int, kind string, run int, m measured) {
	r := m.serverRun()
	sim, _ := json.Marshal(m.sim) // a Report always encodes
	fmt.Fprintf(w, "  %-6d %-8s %-3d %10.0f %8.2f %8.2f %8.2f %9.2f %8.1f %8.2f %9.1f %s\n", window, kind, run, r.AckedPerSec,
		r.P50, r.P99, r.Max, r.ServerCPU, r.RSSMiB, r.SimCPU, r.RecordsPerCommit, sim)
}
