package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
	"github.com/fleetrelay/fleetrelay/test/benchreport/prom"
)

// deliveryLatency is the forwarder's end-to-end latency histogram.
const deliveryLatency = "fleetrelay_forwarder_delivery_latency_seconds"

// e2eRun is one end-to-end run: the forwarder's sink and the offered
// records/s per vehicle.
type e2eRun struct {
	sink string
	rate float64
}

// e2eRuns are the end-to-end runs: 5,000 and 2,000 records/s from 50
// vehicles, into Kafka and into the logger. The quick run keeps 5,000.
var e2eRuns = []e2eRun{{"kafka", 100}, {"logger", 100}, {"kafka", 40}, {"logger", 40}}

// e2eWindow lets pacing, not the ack round trip, set the offered load.
const e2eWindow = 8

// e2e runs the gateway and a forwarder with one sink at a steady offered
// rate and reads the forwarder's delivery latency, for each e2eRun; then it
// replays the WAL of the last logger run to the logger.
func (b *bench) e2e() error {
	measure, warmup, runs := 20*time.Second, 3*time.Second, e2eRuns
	if b.o.quick {
		measure, warmup, runs = 8*time.Second, time.Second, e2eRuns[:2]
	}
	pki, err := b.pki(ingestVehicles)
	if err != nil {
		return err
	}
	kafkaAddr, kfake, err := b.startKfake()
	if err != nil {
		return err
	}
	defer func() { _ = kfake.stop(stopGrace) }()
	raw, err := b.rawFile("e2e.txt")
	if err != nil {
		return err
	}
	defer func() { _ = raw.Close() }()
	replayConfig := ""
	for _, r := range runs {
		e := &benchreport.E2E{Sink: r.sink, Window: e2eWindow, Vehicles: ingestVehicles, RatePerVehicle: r.rate, Measure: measure}
		config, err := b.e2eOnce(raw, e, pki, kafkaAddr, warmup)
		if err != nil {
			return fmt.Errorf("%s at %.0f records/s: %w", r.sink, float64(e.Vehicles)*r.rate, err)
		}
		b.delivery().E2ERuns = append(b.delivery().E2ERuns, e)
		if r.sink == "logger" {
			replayConfig = config
		}
	}
	if replayConfig == "" {
		return nil
	}
	return b.replay(replayConfig)
}

// startKfake runs kfakesrv (kfake in its own process) with the V topic in
// six partitions; other topics are created on first use.
func (b *bench) startKfake() (string, *proc, error) {
	ports, err := freePorts(1)
	if err != nil {
		return "", nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	p, err := start(b.work, "kfakesrv", b.binary["kfakesrv"], "-port", fmt.Sprint(ports[0]),
		"-topics", "tesla_telemetry_V", "-partitions", "6")
	if err != nil {
		return "", nil, err
	}
	if err := p.waitPort(addr, startTimeout); err != nil {
		return "", nil, errors.Join(err, p.stop(stopGrace))
	}
	return addr, p, nil
}

// e2eOnce runs a gateway and a forwarder with e.Sink on a fresh WAL and
// drives them; it returns the forwarder's config file.
func (b *bench) e2eOnce(raw io.Writer, e *benchreport.E2E, pki, kafkaAddr string, warmup time.Duration) (string, error) {
	gw, err := b.startGatewayWith("e2e-"+e.Sink, pki, gatewayConfig{sink: e.Sink, kafka: kafkaAddr})
	if err != nil {
		return "", err
	}
	fw, fwConfig, err := b.startForwarder(gw)
	if err != nil {
		return "", errors.Join(err, gw.stop(stopGrace))
	}
	err = b.e2eRun(raw, e, gw, fw, pki, warmup)
	return fwConfig, errors.Join(err, fw.stop(stopGrace), gw.stop(stopGrace))
}

// delivery returns the report's delivery section, creating it.
func (b *bench) delivery() *benchreport.Delivery {
	if b.rep.Delivery == nil {
		b.rep.Delivery = &benchreport.Delivery{}
	}
	return b.rep.Delivery
}

// startForwarder runs `forwarder` on gw's WAL with its own metrics
// address.
func (b *bench) startForwarder(gw *server) (*server, string, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, "", err
	}
	c := gw.cfg
	c.metricsPort = ports[0]
	data, err := c.json()
	if err != nil {
		return nil, "", err
	}
	dir := filepath.Dir(gw.config)
	path := filepath.Join(dir, "forwarder.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, "", fmt.Errorf("forwarder config: %w", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", c.metricsPort)
	p, err := start(dir, "forwarder", b.binary["forwarder"], "run", "-config", path, "-metrics-addr", addr)
	if err != nil {
		return nil, "", err
	}
	if err := p.waitPort(addr, startTimeout); err != nil {
		return nil, "", errors.Join(err, p.stop(stopGrace))
	}
	return &server{proc: p, metricsPort: c.metricsPort, config: path, cfg: c}, path, nil
}

func (b *bench) e2eRun(raw io.Writer, e *benchreport.E2E, gw, fw *server, pki string, warmup time.Duration) error {
	l := load{vehicles: e.Vehicles, window: e.Window, rate: e.RatePerVehicle, warmup: warmup, measure: e.Measure}
	fmt.Fprintf(raw, "# %s sink %s, offered %.0f records/s, load average %s\n# simulator: vehiclesim %s\n", time.Now().UTC().Format(time.RFC3339),
		e.Sink, float64(e.Vehicles)*e.RatePerVehicle, loadAverage(), strings.Join(l.args(gw.url, "PKI"), " "))
	sim, err := start(filepath.Dir(gw.log), "vehiclesim", b.binary["vehiclesim"], l.args(gw.url, pki)...)
	if err != nil {
		return err
	}
	if err := b.sleep(warmup); err != nil {
		return errors.Join(err, sim.stop(stopGrace))
	}
	before, err := scrape(fw.metricsPort)
	if err != nil {
		return errors.Join(err, sim.stop(stopGrace))
	}
	if err := sim.wait(b.ctx, l.warmup+l.measure+time.Minute); err != nil {
		return err
	}
	// Records acked at the end are delivered a moment later.
	if err := b.sleep(2 * time.Second); err != nil {
		return err
	}
	after, err := scrape(fw.metricsPort)
	if err != nil {
		return err
	}
	f, err := os.Open(sim.log)
	if err != nil {
		return fmt.Errorf("simulator output: %w", err)
	}
	rep, err := benchreport.ParseSimFinal(f)
	_ = f.Close() // read-only
	if err != nil {
		return fmt.Errorf("%w: %s", err, sim.tail())
	}
	d := prom.Sub(after, before)
	delivered, _ := d.Sum("fleetrelay_forwarder_delivered_records_total", nil)
	e.AckedPerSec, e.AckP50, e.AckP99 = rep.AckedPerSec, rep.Latency.P50, rep.Latency.P99
	e.Delivered = int64(delivered)
	e.P50 = 1000 * d.Quantile(deliveryLatency, 0.50, nil)
	e.P90 = 1000 * d.Quantile(deliveryLatency, 0.90, nil)
	e.P99 = 1000 * d.Quantile(deliveryLatency, 0.99, nil)
	e.Buckets = bucketBounds(d, deliveryLatency)
	simJSON, _ := json.Marshal(rep) // a Report always encodes
	fmt.Fprintf(raw, "# simulator final report\n%s\n# forwarder delivery histogram over the measured period (after minus before)\n", simJSON)
	for _, s := range d {
		if strings.HasPrefix(s.Name, deliveryLatency) || strings.HasPrefix(s.Name, "fleetrelay_forwarder_delivered_records") {
			fmt.Fprintln(raw, s)
		}
	}
	fmt.Fprintf(raw, "# delivered=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f\n", e.Delivered, e.P50, e.P90, e.P99)
	b.logf("e2e %s: %.0f acked/s, %d delivered, delivery p50 %.1f ms p99 %.1f ms", e.Sink, e.AckedPerSec, e.Delivered, e.P50, e.P99)
	if e.Delivered == 0 || math.IsNaN(e.P50) {
		return errors.New("the forwarder delivered nothing in the measured period")
	}
	return nil
}

// bucketBounds lists a histogram's finite bucket bounds up to 1 s.
func bucketBounds(ss prom.Samples, name string) string {
	var bounds []string
	seen := map[string]bool{}
	for _, s := range ss {
		le := s.Labels["le"]
		if s.Name != name+"_bucket" || le == "+Inf" || seen[le] {
			continue
		}
		seen[le] = true
		if v, err := strconv.ParseFloat(le, 64); err == nil && v <= 1 {
			bounds = append(bounds, le)
		}
	}
	return strings.Join(bounds, ", ")
}

// replay re-delivers the whole WAL to the logger sink with `forwarder
// replay`.
func (b *bench) replay(config string) error {
	args := []string{"replay", "-config", config, "-sink", "logger"}
	cmd := exec.CommandContext(b.ctx, b.binary["forwarder"], args...)
	out, err := cmd.CombinedOutput()
	if werr := os.WriteFile(filepath.Join(b.raw, "replay.txt"), out, 0o644); werr != nil {
		err = errors.Join(err, fmt.Errorf("raw output: %w", werr))
	}
	if err != nil {
		return fmt.Errorf("forwarder replay: %w: %s", err, out)
	}
	r, err := benchreport.ParseReplay(string(out))
	if err != nil {
		return err
	}
	r.Command = "forwarder " + strings.Join(args[:1], " ") + " -config FILE -sink logger"
	b.delivery().Replay = &r
	b.logf("replay: %d records at %.0f/s", r.Delivered, r.RatePerSec)
	return nil
}
