package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// repoRoot returns the repository root: the nearest parent directory of
// the working directory that holds go.work.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.work above the test directory")
		dir = parent
	}
}

// workspaceEnv is the environment for go commands run in the workspace at
// root: this module runs with GOWORK=off, its children must not.
func workspaceEnv(root string) []string {
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOWORK=") {
			env = append(env, kv)
		}
	}
	return append(env, "GOWORK="+filepath.Join(root, "go.work"))
}

// buildCommands compiles the workspace packages pkgs (paths relative to the
// repository root, e.g. "./gateway/cmd/gateway") into dir.
func buildCommands(t *testing.T, root, dir string, pkgs ...string) {
	t.Helper()
	args := append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = workspaceEnv(root)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
}

// readFile reads a repository file.
func readFile(t *testing.T, root, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	require.NoError(t, err, fmt.Sprintf("read %s", rel))
	return b
}
