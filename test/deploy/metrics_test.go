package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// prometheusOwnSeries are series Prometheus itself creates for every
// target, so no process exports them.
var prometheusOwnSeries = map[string]bool{"up": true}

// referencedMetrics returns metric name → where it is used, over the
// dashboard and the alert rules.
func referencedMetrics(t *testing.T, root string) map[string][]string {
	t.Helper()
	qs := dashboardQueries(t, loadDashboard(t, root))
	qs = append(qs, ruleQueries(loadRules(t, root))...)
	require.NotEmpty(t, qs)
	refs := map[string][]string{}
	for _, q := range qs {
		names, err := metricNames(q.expr)
		require.NoError(t, err, q.where)
		for _, n := range names {
			refs[n] = append(refs[n], q.where)
		}
	}
	return refs
}

// sourceSeries returns every series name the instruments in the source
// export, histogram series included.
func sourceSeries(t *testing.T, root string) (map[string]bool, []instrument) {
	t.Helper()
	ins := sourceInstruments(t, root, "gateway", "forwarder", "wal", "shared")
	require.NotEmpty(t, ins, "no instruments found in the source")
	out := map[string]bool{}
	for _, in := range ins {
		for _, s := range seriesNames(prometheusName(in), in.kind) {
			out[s] = true
		}
	}
	return out, ins
}

// TestMonitoringQueriesUseSourceInstruments checks every metric the
// dashboard and the rules use against the instruments declared in the Go
// source (and Prometheus' own "up"). It needs no binaries.
func TestMonitoringQueriesUseSourceInstruments(t *testing.T) {
	root := repoRoot(t)
	series, _ := sourceSeries(t, root)
	for name, where := range referencedMetrics(t, root) {
		if prometheusOwnSeries[name] || isRuntimeSeries(name) {
			continue
		}
		require.True(t, series[name], "%s (used by %s) is not exported by any instrument in the source", name, strings.Join(where, "; "))
	}
}

// isRuntimeSeries reports the Go and process collectors' series, which only
// a scrape can confirm.
func isRuntimeSeries(name string) bool {
	return strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")
}

// TestMonitoringQueriesUseExportedMetrics runs the real gateway and
// forwarder with simulated vehicles, scrapes both, and checks every metric
// the dashboard and the rules use. A series that only appears after an
// error (a counter is exported after its first increment) is accepted when
// an instrument in the source exports it under the exporter's naming rule,
// and that rule is itself checked against every family the scrape shows.
func TestMonitoringQueriesUseExportedMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway and the forwarder")
	}
	root := repoRoot(t)
	scraped := scrapeRunningSystem(t, root)

	series, instruments := sourceSeries(t, root)
	checkNamingRule(t, instruments, scraped)
	for name := range scraped {
		series[name] = true
	}
	var sourceOnly []string
	for name, where := range referencedMetrics(t, root) {
		if prometheusOwnSeries[name] {
			continue
		}
		require.True(t, series[name], "%s (used by %s) is exported neither in the scrape nor by an instrument in the source",
			name, strings.Join(where, "; "))
		if !scraped[name] {
			sourceOnly = append(sourceOnly, name)
		}
	}
	sort.Strings(sourceOnly)
	t.Logf("checked against the source only (no data point during the run): %s", strings.Join(sourceOnly, ", "))
}

// checkNamingRule fails when a scraped family belongs to a source
// instrument but is not named as prometheusName predicts.
func checkNamingRule(t *testing.T, instruments []instrument, scraped map[string]bool) {
	t.Helper()
	matched := 0
	for _, in := range instruments {
		base := strings.TrimSuffix(in.name, "_total")
		want := prometheusName(in)
		for name := range scraped {
			rest, ok := strings.CutPrefix(name, base)
			if !ok || !onlySuffixWords(rest) {
				continue
			}
			if in.kind == kindHistogram {
				name = trimHistogramSuffix(name)
			}
			require.Equal(t, want, name, "instrument %s (%s) is exported under another name", in.name, in.pos)
			matched++
		}
	}
	require.GreaterOrEqual(t, matched, 10, "too few source instruments seen in the scrape to trust the naming rule")
}

func onlySuffixWords(rest string) bool {
	if rest == "" {
		return true
	}
	if !strings.HasPrefix(rest, "_") {
		return false
	}
	for _, w := range strings.Split(rest[1:], "_") {
		switch w {
		case "total", "bytes", "seconds", "milliseconds", "bucket", "sum", "count":
		default:
			return false
		}
	}
	return true
}

func trimHistogramSuffix(name string) string {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		if n, ok := strings.CutSuffix(name, s); ok {
			return n
		}
	}
	return name
}

// scrapeRunningSystem builds the binaries, runs a gateway and a forwarder
// (logger sink) on free loopback ports with a development PKI, drives
// traffic from two simulated vehicles (one of them not in the VIN
// allowlist, so refusals are counted too), and returns every series name
// the two metrics endpoints export.
func scrapeRunningSystem(t *testing.T, root string) map[string]bool {
	t.Helper()
	bin := t.TempDir()
	buildCommands(t, root, bin, "./gateway/cmd/gateway", "./forwarder/cmd/forwarder",
		"./shared/cmd/devpki", "./test/cmd/vehiclesim")
	dir := t.TempDir()
	run(t, filepath.Join(bin, "devpki"), "-dir", filepath.Join(dir, "pki"), "-vehicles", "2")
	vins, err := filepath.Glob(filepath.Join(dir, "pki", "vehicles", "*.crt"))
	require.NoError(t, err)
	require.Len(t, vins, 2)
	allowed := strings.TrimSuffix(filepath.Base(vins[0]), ".crt")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "vins.txt"), []byte(allowed+"\n"), 0o600))

	ports := freePorts(t, 4)
	cfg := writeConfig(t, dir, ports[0], ports[1], ports[2], ports[3])

	gwMetrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[2])
	fwMetrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[3])
	start(t, dir, filepath.Join(bin, "gateway"), "-config", cfg)
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/status", ports[1]))
	waitTCP(t, fmt.Sprintf("127.0.0.1:%d", ports[0]))
	start(t, dir, filepath.Join(bin, "forwarder"), "-config", cfg)
	waitHTTP(t, fwMetrics)

	run(t, filepath.Join(bin, "vehiclesim"), "-url", fmt.Sprintf("wss://127.0.0.1:%d/", ports[0]),
		"-pki", filepath.Join(dir, "pki"), "-vehicles", "2", "-rate", "20", "-duration", "3s")

	out := map[string]bool{}
	require.Eventually(t, func() bool {
		gw, fw := scrape(t, gwMetrics), scrape(t, fwMetrics)
		for n := range gw {
			out[n] = true
		}
		for n := range fw {
			out[n] = true
		}
		return gw["fleetrelay_gateway_acks_total"] && gw["fleetrelay_gateway_refused_connections_total"] &&
			fw["fleetrelay_forwarder_delivered_records_total"]
	}, 20*time.Second, 200*time.Millisecond, "traffic did not show in the metrics")
	return out
}

// writeConfig writes the configuration the gateway and the forwarder share,
// beside the PKI; each process has its own metrics port.
func writeConfig(t *testing.T, dir string, port, statusPort, metricsPort, forwarderMetricsPort int) string {
	t.Helper()
	cfg := map[string]any{
		"host":        "127.0.0.1",
		"port":        port,
		"status_port": statusPort,
		"namespace":   "tesla_telemetry",
		"tls": map[string]string{
			"server_cert": "pki/server.crt", "server_key": "pki/server.key", "ca_file": "pki/ca.crt",
		},
		"records": map[string][]string{
			"V": {"logger"}, "alerts": {"logger"}, "errors": {"logger"}, "connectivity": {"logger"},
		},
		"logger":     map[string]bool{"verbose": false},
		"monitoring": map[string]any{"prometheus_metrics_port": metricsPort, "prometheus_metrics_host": "127.0.0.1"},
		"wal":        map[string]any{"dir": "wal", "partitions": 2, "disk_budget_bytes": 1 << 30},
		"gateway":    map[string]any{"max_connections": 100, "vin_allowlist_file": "vins.txt"},
		"forwarder":  map[string]any{"prometheus_metrics_port": forwarderMetricsPort},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	require.NoError(t, err)
	path := filepath.Join(dir, "fleetrelay.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		require.NoError(t, ln.Close())
	}
	return ports
}

// run runs a command to completion and fails the test if it fails.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", filepath.Base(name), strings.Join(args, " "), out)
}

// start starts a long-running process whose output goes to a log file in
// dir; it is stopped with SIGTERM (then SIGKILL) when the test ends, and
// its log is printed if the test failed.
func start(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(name)+".log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log (tail):\n%s", filepath.Base(name), tail(string(b), 4000))
		}
	})
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "%s never answered 200", url)
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}, 30*time.Second, 50*time.Millisecond, "nothing listens on %s", addr)
}

// scrape returns every series name one metrics endpoint exports
// (histograms as their _bucket, _sum and _count series).
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	out := map[string]bool{}
	for name, f := range families {
		kind := kindGauge
		if f.GetType().String() == "HISTOGRAM" {
			kind = kindHistogram
		}
		for _, s := range seriesNames(name, kind) {
			out[s] = true
		}
	}
	return out
}
