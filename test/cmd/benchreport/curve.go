package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
	"github.com/fleetrelay/fleetrelay/test/benchreport/chart"
)

// curveSVG is the chart's file name under docs/bench.
const curveSVG = "load-curve.svg"

// curveWindow lets pacing, not the window, set the offered load.
const curveWindow = 8

// curve measures ack latency and throughput at increasing offered loads
// against one gateway, then unpaced.
func (b *bench) curve() error {
	c := &benchreport.Curve{Vehicles: ingestVehicles, Warmup: 2 * time.Second, Measure: 10 * time.Second}
	rates := []float64{10, 20, 50, 100, 150, 200, 300, 400, 0}
	if b.o.quick {
		c.Warmup, c.Measure = time.Second, 4*time.Second
		rates = []float64{20, 100, 200, 400, 0}
	}
	pki, err := b.pki(c.Vehicles)
	if err != nil {
		return err
	}
	raw, err := b.rawFile("curve.txt")
	if err != nil {
		return err
	}
	defer func() { _ = raw.Close() }()
	srv, err := b.startGateway("curve", pki, 0)
	if err != nil {
		return err
	}
	b.rep.Curve = c
	fmt.Fprintf(raw, "# %s load average %s; %d vehicles, window %d, %s warm-up, %s measured per step; one gateway for all steps\n",
		time.Now().UTC().Format(time.RFC3339), loadAverage(), c.Vehicles, curveWindow, c.Warmup, c.Measure)
	fmt.Fprintf(raw, "# %-14s %10s %10s %8s %8s %9s\n", "rate/vehicle", "offered", "acked/s", "p50_ms", "p99_ms", "gw_cores")
	var errs []error
	for _, r := range rates {
		m, err := b.drive(srv, pki, load{vehicles: c.Vehicles, window: curveWindow, rate: r, warmup: c.Warmup, measure: c.Measure})
		if err != nil {
			errs = append(errs, fmt.Errorf("rate %v: %w", r, err))
			continue
		}
		s := benchreport.CurveStep{RatePerVehicle: r, Window: curveWindow, Offered: r * float64(c.Vehicles),
			AckedPerSec: m.sim.AckedPerSec, P50: m.sim.Latency.P50, P99: m.sim.Latency.P99, GatewayCPU: m.serverCPU}
		c.Steps = append(c.Steps, s)
		fmt.Fprintf(raw, "  %-14v %10.0f %10.0f %8.2f %8.2f %9.2f\n", r, s.Offered, s.AckedPerSec, s.P50, s.P99, s.GatewayCPU)
		b.logf("curve rate %v/vehicle: %.0f acked/s p99 %.1f ms", r, s.AckedPerSec, s.P99)
	}
	errs = append(errs, srv.stop(stopGrace))
	if err := b.writeCurveSVG(c); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// writeCurveSVG draws the paced steps: latency on the left axis,
// throughput on the right.
func (b *bench) writeCurveSVG(c *benchreport.Curve) error {
	var p50, p99, acked, offered []chart.Point
	for _, s := range c.Steps {
		if s.RatePerVehicle == 0 {
			continue
		}
		p50 = append(p50, chart.Point{X: s.Offered, Y: s.P50})
		p99 = append(p99, chart.Point{X: s.Offered, Y: s.P99})
		acked = append(acked, chart.Point{X: s.Offered, Y: s.AckedPerSec})
		offered = append(offered, chart.Point{X: s.Offered, Y: s.Offered})
	}
	title := fmt.Sprintf("gateway (fsync): %d vehicles, window %d, offered load in steps", c.Vehicles, curveWindow)
	if b.o.quick {
		title += " (quick run, loaded machine)"
	}
	ch := chart.Chart{
		Title: title, XLabel: "offered records/s", LeftLabel: "ack latency, ms", RightLabel: "records/s",
		Series: []chart.Series{
			{Name: "ack p50", Color: "#1f77b4", Points: p50},
			{Name: "ack p99", Color: "#d62728", Points: p99},
			{Name: "acked records/s", Axis: chart.Right, Color: "#2ca02c", Points: acked},
			{Name: "offered records/s", Axis: chart.Right, Color: "#999999", Dashed: true, Points: offered},
		},
	}
	f, err := os.Create(filepath.Join(b.raw, curveSVG))
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	err = ch.WriteSVG(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("chart: %w", cerr)
	}
	if err == nil {
		c.SVG = curveSVG
	}
	return err
}
