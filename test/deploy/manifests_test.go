package deploy

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/fleetrelay/fleetrelay/shared/config"
)

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) the chart uses; decoding is strict, so any
// other field is reported.
type serviceMonitor struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   corev1ObjectMeta   `json:"metadata"`
	Spec       serviceMonitorSpec `json:"spec"`
}

type corev1ObjectMeta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

type serviceMonitorSpec struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	Endpoints []struct {
		Port        string `json:"port"`
		Path        string `json:"path,omitempty"`
		Interval    string `json:"interval,omitempty"`
		Relabelings []struct {
			TargetLabel string `json:"targetLabel"`
			Replacement string `json:"replacement"`
		} `json:"relabelings,omitempty"`
	} `json:"endpoints"`
}

// release is a rendered chart, by kind.
type release struct {
	statefulSets    []appsv1.StatefulSet
	services        []corev1.Service
	configMaps      []corev1.ConfigMap
	serviceAccounts []corev1.ServiceAccount
	pdbs            []policyv1.PodDisruptionBudget
	serviceMonitors []serviceMonitor
}

// decodeManifests decodes every document strictly into its API type:
// unknown or duplicate fields and unknown kinds fail the test.
func decodeManifests(t *testing.T, stream []byte) release {
	t.Helper()
	var r release
	docs := splitDocuments(stream)
	require.NotEmpty(t, docs)
	for i, doc := range docs {
		require.NoError(t, decodeManifest(doc, &r), "document %d:\n%s", i, doc)
	}
	return r
}

func decodeManifest(doc []byte, r *release) error {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return fmt.Errorf("not YAML: %w", err)
	}
	if errs := validation.IsDNS1123Subdomain(meta.Metadata.Name); len(errs) > 0 {
		return fmt.Errorf("%s name %q: %s", meta.Kind, meta.Metadata.Name, strings.Join(errs, "; "))
	}
	strict := func(v any) error {
		if err := yaml.UnmarshalStrict(doc, v); err != nil {
			return fmt.Errorf("%s %s: %w", meta.Kind, meta.Metadata.Name, err)
		}
		return nil
	}
	switch meta.APIVersion + " " + meta.Kind {
	case "apps/v1 StatefulSet":
		r.statefulSets = append(r.statefulSets, appsv1.StatefulSet{})
		return strict(&r.statefulSets[len(r.statefulSets)-1])
	case "v1 Service":
		r.services = append(r.services, corev1.Service{})
		return strict(&r.services[len(r.services)-1])
	case "v1 ConfigMap":
		r.configMaps = append(r.configMaps, corev1.ConfigMap{})
		return strict(&r.configMaps[len(r.configMaps)-1])
	case "v1 ServiceAccount":
		r.serviceAccounts = append(r.serviceAccounts, corev1.ServiceAccount{})
		return strict(&r.serviceAccounts[len(r.serviceAccounts)-1])
	case "policy/v1 PodDisruptionBudget":
		r.pdbs = append(r.pdbs, policyv1.PodDisruptionBudget{})
		return strict(&r.pdbs[len(r.pdbs)-1])
	case "monitoring.coreos.com/v1 ServiceMonitor":
		r.serviceMonitors = append(r.serviceMonitors, serviceMonitor{})
		return strict(&r.serviceMonitors[len(r.serviceMonitors)-1])
	default:
		return fmt.Errorf("unexpected kind %s %s", meta.APIVersion, meta.Kind)
	}
}

// validateRelease checks what the API server would reject or what would
// break at run time: required fields, references between objects, ports,
// probes, mounts, security settings and the configuration files.
func validateRelease(t *testing.T, r release) {
	t.Helper()
	require.Len(t, r.statefulSets, 1)
	sts := r.statefulSets[0]
	pod := sts.Spec.Template
	podLabels := labels.Set(pod.Labels)

	require.NotNil(t, sts.Spec.Selector)
	sel, err := metav1Selector(sts.Spec.Selector.MatchLabels)
	require.NoError(t, err)
	require.True(t, sel.Matches(podLabels), "StatefulSet selector does not match its pod labels")
	require.NotEmpty(t, sts.Spec.VolumeClaimTemplates, "the WAL needs a PersistentVolumeClaim")

	headless := findService(r, sts.Spec.ServiceName)
	require.NotNil(t, headless, "serviceName %q is not a rendered Service", sts.Spec.ServiceName)
	require.Equal(t, corev1.ClusterIPNone, headless.Spec.ClusterIP)

	ports := validatePod(t, sts, r)
	for _, svc := range r.services {
		require.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels), "Service %s selects no pod", svc.Name)
		for _, p := range svc.Spec.Ports {
			require.Contains(t, ports, p.TargetPort.String(), "Service %s targets an unknown port", svc.Name)
		}
	}
	lb := findService(r, sts.Name)
	require.NotNil(t, lb, "no vehicle-facing Service")
	require.Equal(t, int32(443), lb.Spec.Ports[0].Port)
	require.Equal(t, "telemetry", lb.Spec.Ports[0].TargetPort.String())

	for _, pdb := range r.pdbs {
		s, err := metav1Selector(pdb.Spec.Selector.MatchLabels)
		require.NoError(t, err)
		require.True(t, s.Matches(podLabels), "PodDisruptionBudget %s selects no pod", pdb.Name)
		require.True(t, pdb.Spec.MaxUnavailable != nil || pdb.Spec.MinAvailable != nil)
	}
	for _, sm := range r.serviceMonitors {
		require.True(t, labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(headless.Labels)),
			"ServiceMonitor %s does not select the metrics Service", sm.Metadata.Name)
		for _, ep := range sm.Spec.Endpoints {
			require.True(t, hasServicePort(headless, ep.Port), "ServiceMonitor endpoint %s is not a port of %s", ep.Port, headless.Name)
		}
	}
}

func metav1Selector(m map[string]string) (labels.Selector, error) {
	if len(m) == 0 {
		return nil, fmt.Errorf("empty selector")
	}
	return labels.SelectorFromSet(m), nil
}

func findService(r release, name string) *corev1.Service {
	for i := range r.services {
		if r.services[i].Name == name {
			return &r.services[i]
		}
	}
	return nil
}

func hasServicePort(svc *corev1.Service, name string) bool {
	for _, p := range svc.Spec.Ports {
		if p.Name == name {
			return true
		}
	}
	return false
}

func findConfigMap(r release, name string) *corev1.ConfigMap {
	for i := range r.configMaps {
		if r.configMaps[i].Name == name {
			return &r.configMaps[i]
		}
	}
	return nil
}

// validatePod checks the pod template and returns its named ports. The
// containers share one network namespace, so container ports (and the
// metrics ports in each process's configuration) must be unique.
func validatePod(t *testing.T, sts appsv1.StatefulSet, r release) map[string]int32 {
	t.Helper()
	spec := sts.Spec.Template.Spec
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	for _, c := range sts.Spec.VolumeClaimTemplates {
		volumes[c.Name] = corev1.Volume{Name: c.Name}
	}
	require.NotNil(t, spec.SecurityContext)
	require.True(t, spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot, "pod must run as non-root")

	named := map[string]int32{}
	numbers := map[int32]string{}
	configFiles := map[string]bool{}
	forwarders := 0
	for _, c := range spec.Containers {
		require.NotEmpty(t, c.Image, c.Name)
		require.NotEmpty(t, c.Resources.Requests, "container %s has no resource requests", c.Name)
		sc := c.SecurityContext
		require.NotNil(t, sc, c.Name)
		require.True(t, sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "%s: root file system must be read-only", c.Name)
		require.True(t, sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, c.Name)
		require.NotNil(t, sc.Capabilities)
		require.Contains(t, sc.Capabilities.Drop, corev1.Capability("ALL"), c.Name)
		own := map[string]bool{}
		for _, p := range c.Ports {
			require.Empty(t, validation.IsValidPortName(p.Name), "%s port %q", c.Name, p.Name)
			_, dupName := named[p.Name]
			require.False(t, dupName, "port name %s used twice in the pod", p.Name)
			prev, dupNum := numbers[p.ContainerPort]
			require.False(t, dupNum, "port %d of %s already used by %s", p.ContainerPort, c.Name, prev)
			named[p.Name], numbers[p.ContainerPort], own[p.Name] = p.ContainerPort, c.Name, true
		}
		for _, probe := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if probe == nil {
				continue
			}
			switch {
			case probe.HTTPGet != nil:
				require.True(t, own[probe.HTTPGet.Port.String()], "%s probe port %s is not its own", c.Name, probe.HTTPGet.Port.String())
			case probe.TCPSocket != nil:
				require.True(t, own[probe.TCPSocket.Port.String()], "%s probe port %s is not its own", c.Name, probe.TCPSocket.Port.String())
			default:
				t.Fatalf("%s: probe without a handler", c.Name)
			}
		}
		require.NotNil(t, c.LivenessProbe, "%s has no liveness probe", c.Name)
		mounts := map[string]string{}
		for _, m := range c.VolumeMounts {
			_, ok := volumes[m.Name]
			require.True(t, ok, "%s mounts unknown volume %s", c.Name, m.Name)
			mounts[m.MountPath] = m.Name
		}
		require.Contains(t, mounts, "/var/lib/fleetrelay/wal", "%s does not mount the WAL", c.Name)
		file, cfg := containerConfig(t, c, mounts, volumes, r)
		configFiles[file] = true
		if c.Name == "gateway" {
			require.NotNil(t, c.ReadinessProbe, "the gateway needs a readiness probe")
			require.NotNil(t, c.ReadinessProbe.HTTPGet, "the gateway's readiness follows the WAL: GET /ready")
			require.Equal(t, "/ready", c.ReadinessProbe.HTTPGet.Path)
			checkMetricsPort(t, c, cfg.Monitoring.PrometheusAddr())
		} else {
			forwarders++
			require.NotEmpty(t, flagValue(c.Command, "-sinks"), "%s runs no named sink", c.Name)
			addr := flagValue(c.Command, "-metrics-addr")
			if addr == "" {
				addr = cfg.Forwarder.MetricsAddr(cfg.Monitoring)
			}
			checkMetricsPort(t, c, addr)
		}
	}
	require.Len(t, configFiles, 1, "every process of the pod reads the same configuration file")
	require.Positive(t, forwarders, "no forwarder container")
	return named
}

// containerConfig finds the -config file of a container in its mounted
// ConfigMap and loads it with the product's configuration loader.
func containerConfig(t *testing.T, c corev1.Container, mounts map[string]string, volumes map[string]corev1.Volume, r release) (string, *config.Config) {
	t.Helper()
	file := flagValue(c.Command, "-config")
	require.NotEmpty(t, file, "%s has no -config", c.Name)
	vol := volumes[mounts[path.Dir(file)]]
	require.NotNil(t, vol.ConfigMap, "%s: %s is not in a mounted ConfigMap", c.Name, file)
	cm := findConfigMap(r, vol.ConfigMap.Name)
	require.NotNil(t, cm, "ConfigMap %s is not rendered", vol.ConfigMap.Name)
	data, ok := cm.Data[path.Base(file)]
	require.True(t, ok, "ConfigMap %s has no key %s", cm.Name, path.Base(file))
	cfg, warns, err := config.Parse([]byte(data), "")
	require.NoError(t, err, "%s: %s does not load", c.Name, file)
	require.Empty(t, warns, "%s: %s loads with warnings", c.Name, file)
	return file, cfg
}

// checkMetricsPort requires a process's metrics address to listen on all
// interfaces (Prometheus scrapes the pod IP) on one of its container ports.
func checkMetricsPort(t *testing.T, c corev1.Container, addr string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err, "%s metrics address %q", c.Name, addr)
	require.Contains(t, []string{"0.0.0.0", "", "::"}, host, "%s serves metrics on %s only", c.Name, host)
	for _, p := range c.Ports {
		if strconv.Itoa(int(p.ContainerPort)) == port {
			return
		}
	}
	t.Fatalf("%s serves metrics on %s, which is not one of its container ports", c.Name, addr)
}

func TestDecodeManifestStrict(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{name: "valid", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n"},
		{name: "unknown field", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndatas:\n  k: v\n", want: "unknown field"},
		{name: "wrong type", doc: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports: 443\n", want: "cannot unmarshal"},
		{name: "bad name", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: A_B\n", want: "name"},
		{name: "unknown kind", doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n", want: "unexpected kind"},
		{name: "nested unknown field", doc: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          imagee: x\n",
			want: "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeManifest([]byte(tt.doc), &release{})
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestSplitDocuments(t *testing.T) {
	stream := "---\n# Source: a.yaml\n---\nkind: A\n---\n# only a comment\n\n---\nkind: B\n"
	docs := splitDocuments([]byte(stream))
	require.Len(t, docs, 2)
	require.Contains(t, string(docs[0]), "kind: A")
	require.Contains(t, string(docs[1]), "kind: B")
}
