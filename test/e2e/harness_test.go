package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// binaries are the commands the end-to-end tests run as separate processes,
// built once per test binary into a temporary directory.
var binaries = map[string]string{
	"gateway":    "./gateway/cmd/gateway",
	"forwarder":  "./forwarder/cmd/forwarder",
	"vehiclesim": "./test/cmd/vehiclesim",
	"devpki":     "./shared/cmd/devpki",
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// bin returns the path of a built command, building all of them on first use.
func bin(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		root := testenv.RepoRoot(t)
		binDir, buildErr = os.MkdirTemp("", "fleetrelay-e2e-bin-")
		if buildErr != nil {
			return
		}
		args := []string{"build", "-o", binDir + string(filepath.Separator)}
		for _, pkg := range binaries {
			args = append(args, pkg)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return filepath.Join(binDir, name)
}

// proc is a child process whose output goes to a log file in the test's
// temporary directory, dumped when the test fails.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// start runs a built command with args in dir. The process is killed when
// the test ends.
func start(t *testing.T, dir, name string, args ...string) *proc {
	t.Helper()
	logFile := filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	f, err := os.Create(logFile)
	require.NoError(t, err)
	cmd := execCommand(bin(t, name), args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(t, cmd.Start(), "start %s", name)
	p := &proc{name: name, cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			out, _ := os.ReadFile(logFile)
			t.Logf("--- %s output (last 4 KiB) ---\n%s", name, tail(out, 4096))
		}
	})
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits up to timeout for a clean exit.
func (p *proc) stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		var exitErr *exec.ExitError
		if errors.As(p.err, &exitErr) {
			return fmt.Errorf("%s exited with %w", p.name, p.err)
		}
		return p.err
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("%s did not exit within %s of SIGTERM", p.name, timeout)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening waits until something accepts TCP connections on addr.
func waitListening(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listening on %s after %s", addr, timeout)
}

// execCommand is exec.Command; a seam kept in one place.
func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
