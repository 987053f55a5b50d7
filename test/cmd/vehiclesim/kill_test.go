package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
)

// childEnv makes the test binary run the command's main, so a test can
// start it as a separate process and SIGKILL it.
const childEnv = "VEHICLESIM_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestAckedFileSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	_, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: devpki.GeneratedVINs(2)})
	require.NoError(t, err)
	srv := startAckServer(t, dir)
	acked := filepath.Join(t.TempDir(), "acked.tsv")

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-url", srv.URL(), "-pki", dir, "-vehicles", "2",
		"-txid-prefix", "k", "-acked-file", acked)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool {
		st, err := os.Stat(acked)
		return err == nil && st.Size() > 20_000 && srv.Stats().Connections == 2
	}, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, cmd.Process.Kill())
	require.Error(t, cmd.Wait(), "killed")

	logged, err := vehiclesim.ReadAckLog(acked)
	require.NoError(t, err)
	require.NotEmpty(t, logged)
	require.LessOrEqual(t, int64(len(logged)), srv.Stats().Acks)
	// Window 1: each vehicle's records are acked in order, so its lines
	// are k-1, k-2, ... without gaps or repeats.
	next := map[string]int{}
	for _, a := range logged {
		next[a.VIN]++
		require.Equal(t, fmt.Sprintf("k-%d", next[a.VIN]), a.TxID, a.VIN)
	}
	require.NotEmpty(t, next)
}

func TestSIGTERMPrintsFinalReport(t *testing.T) {
	dir := t.TempDir()
	_, err := devpki.Ensure(devpki.Options{Dir: dir, VINs: devpki.GeneratedVINs(1)})
	require.NoError(t, err)
	srv := startAckServer(t, dir)

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-url", srv.URL(), "-pki", dir, "-json")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var stdout strings.Builder
	cmd.Stdout = &stdout
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return srv.Stats().Acks > 100 }, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "clean exit")

	var final vehiclesim.Report
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(stdout.String())), &final))
	require.True(t, final.Final)
	require.Zero(t, final.InFlight, "drained before exit")
	require.Equal(t, srv.Stats().Acks, final.Acked)
}
