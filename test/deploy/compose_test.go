package deploy

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/fleetrelay/fleetrelay/shared/config"
)

const composeDir = "deployments/compose"

// composeFile is the part of the Compose specification the checks read.
type composeFile struct {
	Services map[string]struct {
		Image      string   `json:"image"`
		Entrypoint []string `json:"entrypoint"`
		Command    []string `json:"command"`
		Volumes    []string `json:"volumes"`
		Ports      []string `json:"ports"`
	} `json:"services"`
	Volumes map[string]any `json:"volumes"`
}

type prometheusConfig struct {
	RuleFiles     []string `json:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `json:"job_name"`
		StaticConfigs []struct {
			Targets []string `json:"targets"`
		} `json:"static_configs"`
	} `json:"scrape_configs"`
}

// TestComposeFiles checks the compose deployment without a Docker engine:
// every file parses, every bind-mounted path exists, the fleetrelay
// configuration loads, there is one forwarder per routed sink, and
// Prometheus scrapes every fleetrelay process under the job names the
// alert rules use.
func TestComposeFiles(t *testing.T) {
	root := repoRoot(t)
	dir := filepath.Join(root, composeDir)
	var cf composeFile
	require.NoError(t, yaml.Unmarshal(readFile(t, root, composeDir+"/compose.yaml"), &cf))
	for _, s := range []string{"gateway", "forwarder-kafka", "forwarder-mqtt", "kafka", "mosquitto", "prometheus", "grafana"} {
		require.Contains(t, cf.Services, s)
	}

	mounts := map[string]string{} // container path (gateway and forwarders) → host path
	for name, s := range cf.Services {
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			require.GreaterOrEqual(t, len(parts), 2, "%s volume %q", name, v)
			src := parts[0]
			if strings.HasPrefix(src, ".") {
				_, err := os.Stat(filepath.Join(dir, src))
				require.NoError(t, err, "%s mounts %s, which does not exist", name, src)
				if name == "gateway" {
					mounts[parts[1]] = filepath.Join(dir, src)
				}
			} else {
				require.Contains(t, cf.Volumes, src, "%s uses undeclared volume %s", name, src)
			}
		}
	}

	gw := cf.Services["gateway"]
	cfgPath := flagValue(gw.Command, "-config")
	host := hostPath(t, mounts, cfgPath)
	cfg, warns, err := config.Parse(readFile(t, "/", host), "")
	require.NoError(t, err, "%s does not load", cfgPath)
	require.Empty(t, warns)
	for _, p := range []string{cfg.Gateway.VINAllowlistFile} {
		_, err := os.Stat(hostPath(t, mounts, p))
		require.NoError(t, err)
	}
	require.Equal(t, "/var/lib/fleetrelay/wal", cfg.WAL.Dir)

	var routed []string
	for _, ds := range cfg.Records {
		for _, d := range ds {
			if !slices.Contains(routed, d) {
				routed = append(routed, d)
			}
		}
	}
	var forwarded []string
	for name, s := range cf.Services {
		if !strings.HasPrefix(name, "forwarder-") {
			continue
		}
		require.Equal(t, cfgPath, flagValue(s.Command, "-config"), "%s reads another configuration", name)
		sink := flagValue(s.Command, "-sinks")
		require.Equal(t, "forwarder-"+sink, name)
		require.Contains(t, routed, sink, "%s runs a sink no topic is routed to", name)
		require.Contains(t, s.Volumes, "wal:/var/lib/fleetrelay/wal", "%s does not share the WAL volume", name)
		forwarded = append(forwarded, sink)
	}
	require.ElementsMatch(t, routed, forwarded, "every routed sink needs a forwarder")

	var pc prometheusConfig
	require.NoError(t, yaml.UnmarshalStrict(filterPrometheus(t, readFile(t, root, composeDir+"/prometheus/prometheus.yml")), &pc))
	targets := map[string][]string{}
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets[sc.JobName] = append(targets[sc.JobName], st.Targets...)
		}
	}
	metricsPort := strconv.Itoa(cfg.Monitoring.PrometheusMetricsPort)
	require.Equal(t, []string{"gateway:" + metricsPort}, targets["fleetrelay-gateway"])
	_, fwdPort, err := net.SplitHostPort(cfg.Forwarder.MetricsAddr(cfg.Monitoring))
	require.NoError(t, err)
	var fwdTargets []string
	for _, sink := range forwarded {
		fwdTargets = append(fwdTargets, net.JoinHostPort("forwarder-"+sink, fwdPort))
	}
	require.ElementsMatch(t, fwdTargets, targets["fleetrelay-forwarder"])
	rulesMounted := false
	for _, v := range cf.Services["prometheus"].Volumes {
		if strings.HasPrefix(v, "../prometheus/alerts.yml:") {
			dst := strings.Split(v, ":")[1]
			for _, g := range pc.RuleFiles {
				ok, err := filepath.Match(g, dst)
				require.NoError(t, err)
				rulesMounted = rulesMounted || ok
			}
		}
	}
	require.True(t, rulesMounted, "the alert rules are not mounted where rule_files looks")

	for _, f := range []string{"grafana/provisioning/datasources/prometheus.yml", "grafana/provisioning/dashboards/fleetrelay.yml"} {
		var v map[string]any
		require.NoError(t, yaml.Unmarshal(readFile(t, root, composeDir+"/"+f), &v), f)
		require.EqualValues(t, 1, v["apiVersion"], f)
	}
}

// filterPrometheus keeps the keys prometheusConfig declares, so that the
// strict decode checks their shape without modelling every global option.
func filterPrometheus(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(b, &m))
	delete(m, "global")
	out, err := yaml.Marshal(m)
	require.NoError(t, err)
	return out
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// hostPath maps a container path under one of the gateway's bind mounts to
// the host path.
func hostPath(t *testing.T, mounts map[string]string, p string) string {
	t.Helper()
	for dst, src := range mounts {
		if rel, ok := strings.CutPrefix(p, dst+"/"); ok {
			return filepath.Join(src, rel)
		}
	}
	t.Fatalf("%s is not under a bind mount of the gateway", p)
	return ""
}
