package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
)

// startTimeout bounds a server's start (a loaded machine is slow).
const startTimeout = 30 * time.Second

// stopGrace is how long a server may take to exit on SIGTERM.
const stopGrace = 30 * time.Second

// gatewaySetup describes the gateway configuration of the ingest runs.
const gatewaySetup = "`gateway` with fsync on every group commit, a fresh WAL in a temporary directory (one partition, the default, 16 MiB segments, " +
	"as `configs/dev.json`), every topic routed to the logger sink but **no forwarder running** (the gateway only writes the WAL), " +
	"`log_level` warn, Prometheus metrics on"

// server is a running gateway or ack server.
type server struct {
	*proc
	url         string
	metricsPort int // 0 for the ack server
	walDir      string
	config      string
	cfg         gatewayConfig
}

// gatewayConfig is a configuration like configs/dev.json on free ports.
type gatewayConfig struct {
	pki, walDir, loggerFile string
	port, metricsPort       int
	maxConnections          int
	// sink receives every topic: "logger" (the default) or "kafka" at the
	// bootstrap address kafka.
	sink, kafka string
}

func (c gatewayConfig) json() ([]byte, error) {
	cfg := map[string]any{
		"host": "127.0.0.1", "port": c.port, "log_level": "warn", "json_log_enable": true,
		"namespace": "tesla_telemetry",
		"tls": map[string]string{
			"server_cert": filepath.Join(c.pki, "server.crt"), "server_key": filepath.Join(c.pki, "server.key"),
			"ca_file": filepath.Join(c.pki, "ca.crt"),
		},
		"logger": map[string]any{"verbose": false, "file": c.loggerFile},
		"monitoring": map[string]any{
			"prometheus_metrics_port": c.metricsPort, "prometheus_metrics_host": "127.0.0.1",
		},
		"wal": map[string]any{"dir": c.walDir, "partitions": 1, "segment_size_bytes": 16 << 20},
	}
	sink := c.sink
	if sink == "" {
		sink = "logger"
	}
	cfg["records"] = map[string][]string{"V": {sink}, "alerts": {sink}, "errors": {sink}, "connectivity": {sink}}
	if c.kafka != "" {
		cfg["kafka"] = map[string]any{"bootstrap.servers": c.kafka, "enable.metrics.push": false}
	}
	if c.maxConnections > 0 {
		cfg["gateway"] = map[string]any{"max_connections": c.maxConnections}
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	return data, nil
}

// startGateway starts a gateway with a fresh WAL under a new directory.
func (b *bench) startGateway(name, pki string, maxConns int) (*server, error) {
	return b.startGatewayWith(name, pki, gatewayConfig{maxConnections: maxConns})
}

// startGatewayWith starts a gateway configured like c (its sink and
// connection limit) with a fresh WAL under a new directory.
func (b *bench) startGatewayWith(name, pki string, c gatewayConfig) (*server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(b.work, name+"-")
	if err != nil {
		return nil, fmt.Errorf("gateway directory: %w", err)
	}
	c.pki, c.walDir, c.loggerFile = pki, filepath.Join(dir, "wal"), filepath.Join(dir, "records.jsonl")
	c.port, c.metricsPort = ports[0], ports[1]
	data, err := c.json()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "gateway.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	p, err := start(dir, "gateway", b.binary["gateway"], "-config", path)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", c.port)
	if err := p.waitPort(addr, startTimeout); err != nil {
		_ = p.stop(stopGrace)
		return nil, err
	}
	return &server{proc: p, url: "wss://" + addr + "/", metricsPort: c.metricsPort, walDir: c.walDir, config: path, cfg: c}, nil
}

// startAckServer starts the trivial ack server.
func (b *bench) startAckServer(pki string) (*server, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	p, err := start(b.work, "ackserver", b.binary["ackserver"], "-addr", addr, "-pki", pki)
	if err != nil {
		return nil, err
	}
	if err := p.waitPort(addr, startTimeout); err != nil {
		_ = p.stop(stopGrace)
		return nil, err
	}
	return &server{proc: p, url: "wss://" + addr + "/"}, nil
}

// load is one simulator run.
type load struct {
	vehicles int
	window   int
	rate     float64 // per vehicle; 0 = unpaced
	warmup   time.Duration
	measure  time.Duration
}

func (l load) args(url, pki string) []string {
	args := []string{"-url", url, "-pki", pki, "-vehicles", fmt.Sprint(l.vehicles), "-window", fmt.Sprint(l.window),
		"-duration", (l.warmup + l.measure).String(), "-warmup", l.warmup.String(), "-json"}
	if l.rate > 0 {
		args = append(args, "-rate", fmt.Sprint(l.rate))
	}
	return args
}

// measured is a simulator run's report and the server's figures over the
// measured period.
type measured struct {
	sim       vehiclesim.Report
	serverCPU float64 // cores
	rssMiB    float64
	hwmMiB    float64
	perCommit float64
}

func (m measured) serverRun() benchreport.ServerRun {
	r := benchreport.ServerRun{
		AckedPerSec: m.sim.AckedPerSec, P50: m.sim.Latency.P50, P90: m.sim.Latency.P90, P99: m.sim.Latency.P99,
		Max: m.sim.Latency.Max, Errors: m.sim.Errors, Resends: m.sim.Resends, ServerCPU: m.serverCPU,
		RSSMiB: m.rssMiB, HWMMiB: m.hwmMiB, SentPerSimCPUSec: m.sim.SentPerCPUSec, RecordsPerCommit: m.perCommit,
	}
	if m.sim.PeriodSec > 0 {
		r.SimCPU = m.sim.CPUSec / m.sim.PeriodSec
	}
	return r
}

// drive runs the simulator against srv and measures the server's CPU over
// the measured period (after the warm-up).
func (b *bench) drive(srv *server, pki string, l load) (measured, error) {
	var m measured
	p, err := start(filepath.Dir(srv.log), "vehiclesim", b.binary["vehiclesim"], l.args(srv.url, pki)...)
	if err != nil {
		return m, err
	}
	if err := b.sleep(l.warmup); err != nil {
		_ = p.stop(stopGrace)
		return m, err
	}
	c0, err := cpuSeconds(srv.pid())
	if err != nil {
		_ = p.stop(stopGrace)
		return m, err
	}
	t0 := time.Now()
	if err := p.wait(b.ctx, l.warmup+l.measure+time.Minute); err != nil {
		return m, err
	}
	c1, err := cpuSeconds(srv.pid())
	if err != nil {
		return m, err
	}
	m.serverCPU = (c1 - c0) / time.Since(t0).Seconds()
	rss, hwm, err := memKiB(srv.pid())
	if err != nil {
		return m, err
	}
	m.rssMiB, m.hwmMiB = rss/1024, hwm/1024
	f, err := os.Open(p.log)
	if err != nil {
		return m, fmt.Errorf("simulator output: %w", err)
	}
	defer func() { _ = f.Close() }()
	if m.sim, err = benchreport.ParseSimFinal(f); err != nil {
		return m, fmt.Errorf("%w: %s", err, p.tail())
	}
	if srv.metricsPort > 0 {
		ss, err := scrape(srv.metricsPort)
		if err != nil {
			return m, err
		}
		sum, _ := ss.Sum("fleetrelay_wal_batch_records_sum", nil)
		count, _ := ss.Sum("fleetrelay_wal_batch_records_count", nil)
		m.perCommit = benchreport.Ratio(sum, count)
	}
	return m, nil
}
