package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Shape of the WAL: small segments so that retention frees space in steps
// and a disk budget (Config.WALBudgetBytes) fills within seconds.
const (
	walPartitions   = 2
	walSegmentBytes = 64 << 10
)

// system is the running deployment: datastores, gateway, forwarders,
// vehicles and the proxy between the vehicles and the gateway.
type system struct {
	cfg      Config
	logDir   string
	pki      string
	config   string
	walDir   string
	loggerTo string
	ackedTo  string
	kafkaDir string

	gwAddr    string
	kafkaPort int
	mqttPort  int
	mqttDir   string
	gwProxy   *proxy
	mqttSub   *mqttSubscriber

	mu    sync.Mutex
	procs map[string]*process // role → current process
	down  map[string]bool     // roles deliberately not running
	died  []string            // unexpected exits
}

func newSystem(cfg Config) (*system, error) {
	s := &system{
		cfg: cfg, logDir: filepath.Join(cfg.WorkDir, "logs"), pki: filepath.Join(cfg.WorkDir, "pki"),
		config: filepath.Join(cfg.WorkDir, "config.json"), walDir: filepath.Join(cfg.WorkDir, "wal"),
		loggerTo: filepath.Join(cfg.WorkDir, "logger.jsonl"), ackedTo: filepath.Join(cfg.WorkDir, "acked.tsv"),
		kafkaDir: filepath.Join(cfg.WorkDir, "kafka"),
		procs:    map[string]*process{}, down: map[string]bool{},
	}
	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	return s, nil
}

func (s *system) progress(format string, args ...any) {
	if s.cfg.Progress != nil {
		fmt.Fprintf(s.cfg.Progress, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
}

// setup writes the PKI and the config and starts the datastores.
func (s *system) setup(ctx context.Context) error {
	out, err := runOnce(ctx, s.cfg.Binaries.Path("devpki"), "-dir", s.pki, "-vehicles", strconv.Itoa(s.cfg.Vehicles))
	if err != nil {
		return fmt.Errorf("devpki: %w\n%s", err, out)
	}
	gwPort, err := freePort()
	if err != nil {
		return err
	}
	s.gwAddr = fmt.Sprintf("127.0.0.1:%d", gwPort)
	if s.hasSink("kafka") {
		if s.kafkaPort, err = freePort(); err != nil {
			return err
		}
		if err := s.startKafka(ctx); err != nil {
			return err
		}
	}
	if s.hasSink("mqtt") {
		if s.mqttPort, err = freePort(); err != nil {
			return err
		}
		if err := s.startMosquitto(ctx); err != nil {
			return err
		}
		if s.mqttSub, err = newMQTTSubscriber(s.mqttBroker()); err != nil {
			return err
		}
	}
	return s.writeConfig(gwPort)
}

func (s *system) hasSink(name string) bool { return slices.Contains(s.cfg.Sinks, name) }

func (s *system) writeConfig(port int) error {
	records := map[string][]string{"V": s.cfg.Sinks, "alerts": s.cfg.Sinks, "errors": s.cfg.Sinks}
	walCfg := map[string]any{"dir": s.walDir, "partitions": walPartitions, "segment_size_bytes": walSegmentBytes}
	if slices.Contains(s.cfg.Faults, FaultDiskBudget) {
		walCfg["disk_budget_bytes"] = s.cfg.WALBudgetBytes
	}
	cfg := map[string]any{
		"host": "127.0.0.1", "port": port, "log_level": "warn", "json_log_enable": true,
		"namespace": "reliability",
		"tls": map[string]any{
			"server_cert": filepath.Join(s.pki, "server.crt"), "server_key": filepath.Join(s.pki, "server.key"),
			"ca_file": filepath.Join(s.pki, "ca.crt"),
		},
		"records": records,
		"wal":     walCfg,
		"gateway": map[string]any{"read_header_timeout": slowlorisHeaderTimeout.String(), "idle_timeout": "30s"},
		"forwarder": map[string]any{
			"batch_linger_ms": 5,
			"retry":           map[string]any{"initial_interval_ms": 100, "max_interval_ms": 1000},
		},
	}
	if s.hasSink("logger") {
		cfg["logger"] = map[string]any{"file": s.loggerTo}
	}
	if s.hasSink("kafka") {
		cfg["kafka"] = map[string]any{
			"bootstrap.servers": fmt.Sprintf("127.0.0.1:%d", s.kafkaPort),
			"log_level":         3, "enable.metrics.push": false,
		}
	}
	if s.hasSink("mqtt") {
		cfg["mqtt"] = map[string]any{
			"broker": s.mqttBroker(), "client_id": "fleetrelay-reliability", "topic_base": mqttTopicBase,
			"qos": 1, "connect_retry_interval_ms": 500, "publish_timeout_ms": 5000,
		}
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := os.WriteFile(s.config, b, 0o600); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// start launches a role's process and records it as the current one.
func (s *system) start(role, bin string, args ...string) (*process, error) {
	p, err := startProcess(s.logDir, role, s.cfg.Binaries.Path(bin), args...)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.procs[role] = p
	s.down[role] = false
	s.mu.Unlock()
	return p, nil
}

// proc returns a role's current process.
func (s *system) proc(role string) *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[role]
}

// kill SIGKILLs a role's process; it stays down until started again.
func (s *system) kill(role string) {
	s.mu.Lock()
	p := s.procs[role]
	s.down[role] = true
	s.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

// stopRole stops a role with SIGTERM.
func (s *system) stopRole(role string, timeout time.Duration) error {
	s.mu.Lock()
	p := s.procs[role]
	s.down[role] = true
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.stop(timeout)
}

// checkAlive records every role whose process ended without being asked to.
func (s *system) checkAlive() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for role, p := range s.procs {
		if !s.down[role] && p.exited() {
			s.died = append(s.died, fmt.Sprintf("%s exited unexpectedly (%v):\n%s", role, p.err, p.tail(1500)))
			s.down[role] = true
		}
	}
	return s.died
}

func (s *system) startKafka(ctx context.Context) error {
	// The topics are created at the first start: kfake persists an
	// auto-created topic lazily, and a SIGKILL right after an auto-creation
	// leaves partition files that a restarted broker appends to at wrong
	// offsets.
	p, err := s.start("kafka", "kfakesrv", "-port", strconv.Itoa(s.kafkaPort), "-data-dir", s.kafkaDir,
		"-topics", strings.Join(kafkaTopics, ","), "-partitions", "4", "-slow-delay", "250ms")
	if err != nil {
		return err
	}
	_, err = p.waitLine(ctx, "READY", 30*time.Second)
	return err
}

func (s *system) startGateway(ctx context.Context) error {
	p, err := s.start("gateway", "gateway", "-config", s.config)
	if err != nil {
		return err
	}
	return waitListening(ctx, p, s.gwAddr, 60*time.Second)
}

// kafkaTopics are the Kafka topics of the scenario's records.
var kafkaTopics = []string{"reliability_V", "reliability_alerts", "reliability_errors"}

func (s *system) mqttBroker() string { return fmt.Sprintf("tcp://127.0.0.1:%d", s.mqttPort) }

func forwarderRole(sink string) string { return "forwarder-" + sink }

func (s *system) startForwarder(sink string) error {
	_, err := s.start(forwarderRole(sink), "forwarder", "run", "-config", s.config, "-sinks", sink)
	return err
}

func (s *system) startVehicles() error {
	_, err := s.start("vehicles", "vehiclesim",
		"-url", "wss://"+s.gwProxy.Addr()+"/", "-pki", s.pki,
		"-vehicles", strconv.Itoa(s.cfg.Vehicles), "-window", strconv.Itoa(s.cfg.Window),
		"-rate", strconv.FormatFloat(s.cfg.Rate, 'f', -1, 64),
		"-resend-timeout", "2s", "-backoff-max", "500ms", "-drain-timeout", "20s",
		"-report-interval", "5s", "-json", "-acked-file", s.ackedTo)
	return err
}

// shutdown stops every process that is still running, from the vehicles
// to the datastores, so that no process waits on one already gone.
func (s *system) shutdown() {
	s.mu.Lock()
	roles := make([]string, 0, len(s.procs))
	for role := range s.procs {
		s.down[role] = true
		roles = append(roles, role)
	}
	procs := s.procs
	s.mu.Unlock()
	rank := func(role string) int {
		switch {
		case role == "vehicles":
			return 0
		case role == "gateway":
			return 1
		case strings.HasPrefix(role, "forwarder-"):
			return 2
		default:
			return 3
		}
	}
	slices.SortFunc(roles, func(a, b string) int { return rank(a) - rank(b) })
	for _, role := range roles {
		if p := procs[role]; !p.exited() {
			_ = p.stop(20 * time.Second)
		}
	}
	if s.gwProxy != nil {
		_ = s.gwProxy.Close()
	}
	if s.mqttSub != nil {
		s.mqttSub.close()
	}
	if s.mqttDir != "" {
		_ = os.RemoveAll(s.mqttDir)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening waits until something accepts TCP connections on addr,
// failing early if p exits.
func waitListening(ctx context.Context, p *process, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited before listening on %s: %v\n%s", p.name, addr, p.err, p.tail(2048))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: nothing listening on %s after %s\n%s", p.name, addr, timeout, p.tail(2048))
}

// runOnce runs a command to completion and returns its output.
func runOnce(ctx context.Context, bin string, args ...string) (string, error) {
	out, err := commandContext(ctx, bin, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
