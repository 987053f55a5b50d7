package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const chartPath = "deployments/helm/fleetrelay"

// helmBinary returns the helm to run: $HELM, else helm built from the
// version pinned in tools/go.mod.
func helmBinary(t *testing.T, root string) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	out := filepath.Join(t.TempDir(), "helm")
	cmd := exec.Command("go", "build", "-o", out, "helm.sh/helm/v3/cmd/helm")
	cmd.Dir = filepath.Join(root, "tools")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "build helm from tools/go.mod:\n%s", b)
	return out
}

// helm runs helm with a private home so nothing outside the test is read
// or written.
func helm(t *testing.T, bin string, args ...string) ([]byte, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// TestHelmChart lints the chart and renders it with every values file in
// its ci/ folder; every rendered manifest must decode strictly into the
// Kubernetes API types and pass the cross-reference checks of validatePod.
func TestHelmChart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs helm")
	}
	root := repoRoot(t)
	chart := filepath.Join(root, chartPath)
	bin := helmBinary(t, root)
	scenarios, err := filepath.Glob(filepath.Join(chart, "ci", "*-values.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, scenarios)
	for _, values := range scenarios {
		t.Run(filepath.Base(values), func(t *testing.T) {
			_, err := helm(t, bin, "lint", "--strict", chart, "-f", values)
			require.NoError(t, err)
			out, err := helm(t, bin, "template", "fleetrelay", chart, "-f", values, "--namespace", "telemetry")
			require.NoError(t, err)
			set := decodeManifests(t, out)
			validateRelease(t, set)
		})
	}
}

// TestHelmChartRefusesIncompleteValues checks the chart's own guards.
func TestHelmChartRefusesIncompleteValues(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs helm")
	}
	root := repoRoot(t)
	chart := filepath.Join(root, chartPath)
	bin := helmBinary(t, root)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no TLS secret", want: "tls.existingSecret"},
		{name: "no sink", args: []string{"--set", "tls.existingSecret=s", "--set", "config.records=null"}, want: "no sink"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := helm(t, bin, append([]string{"template", "fleetrelay", chart}, tt.args...)...)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// splitDocuments splits a multi-document YAML stream, dropping empty
// documents and comment-only ones.
func splitDocuments(stream []byte) [][]byte {
	var out [][]byte
	for _, d := range docSeparator.Split(string(stream), -1) {
		empty := true
		for _, line := range strings.Split(d, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				empty = false
				break
			}
		}
		if !empty {
			out = append(out, []byte(d))
		}
	}
	return out
}
