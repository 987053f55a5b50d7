package vehiclesim_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/shared/devpki"
	"github.com/fleetrelay/fleetrelay/test/ackserver"
	"github.com/fleetrelay/fleetrelay/test/ackserver/ackservertest"
	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
)

// fleetConfig is a short run of n vehicles against the fixture.
func fleetConfig(t *testing.T, f *ackservertest.Fixture, n int) vehiclesim.Config {
	t.Helper()
	cfg := vehiclesim.NewDefaultConfig()
	cfg.URL, cfg.RootCAs = f.URL(), f.RootCAs()
	cfg.TxIDPrefix = "run"
	cfg.BackoffMin, cfg.BackoffMax = 20*time.Millisecond, 100*time.Millisecond
	cfg.DrainTimeout = 3 * time.Second
	for _, vin := range devpki.GeneratedVINs(n) {
		cfg.Vehicles = append(cfg.Vehicles, vehiclesim.Vehicle{VIN: vin, Cert: f.Vehicle(t, vin)})
	}
	return cfg
}

// run runs the simulation with an ack log and returns the final report and the log.
func run(t *testing.T, cfg vehiclesim.Config, during func()) (vehiclesim.Report, []vehiclesim.AckedRecord) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "acked.tsv")
	file, err := os.Create(path)
	require.NoError(t, err)
	acks := vehiclesim.NewAckLog(file)
	sim, err := vehiclesim.New(cfg, vehiclesim.Settings{AckLog: acks})
	require.NoError(t, err)
	var wg sync.WaitGroup
	if during != nil {
		wg.Go(during)
	}
	report := sim.Run(t.Context())
	wg.Wait()
	require.NoError(t, acks.Close())
	require.NoError(t, file.Close())
	logged, err := vehiclesim.ReadAckLog(path)
	require.NoError(t, err)
	return report, logged
}

// requireConsistent checks the invariants of a drained run: every record
// sent was answered, the ack log holds each acked record once, and every
// line names a simulated VIN and a txid of this run.
func requireConsistent(t *testing.T, cfg vehiclesim.Config, r vehiclesim.Report, logged []vehiclesim.AckedRecord) {
	t.Helper()
	require.True(t, r.Final)
	require.Zero(t, r.InFlight, "drained")
	require.Equal(t, r.Sent, r.Acked+r.Errors)
	require.Len(t, logged, int(r.Acked))
	vins := map[string]bool{}
	for _, v := range cfg.Vehicles {
		vins[v.VIN] = true
	}
	seen := map[string]bool{}
	for _, a := range logged {
		require.True(t, vins[a.VIN], a.VIN)
		require.True(t, strings.HasPrefix(a.TxID, "run-"), a.TxID)
		require.Contains(t, []string{"V", "alerts", "errors"}, a.Topic)
		key := a.VIN + "/" + a.TxID
		require.False(t, seen[key], "duplicate %s", key)
		seen[key] = true
	}
}

func TestRunCountsAndAckLog(t *testing.T) {
	tests := []struct {
		name     string
		vehicles int
		window   int
	}{
		{name: "window_1", vehicles: 3, window: 1},
		{name: "window_8", vehicles: 2, window: 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ackservertest.Start(t, ackserver.Config{})
			cfg := fleetConfig(t, f, tc.vehicles)
			cfg.Window, cfg.Duration = tc.window, 500*time.Millisecond
			r, logged := run(t, cfg, nil)
			requireConsistent(t, cfg, r, logged)
			require.Positive(t, r.Acked)
			require.Zero(t, r.Errors+r.Resends+r.Reconnects+r.StrayAcks)
			require.Equal(t, r.Acked, r.Latency.Count)
			require.Equal(t, r.Acked, f.Server.Stats().Acks)
			require.Equal(t, int64(tc.vehicles), f.Server.Stats().Connections)
			require.Positive(t, r.Latency.P50)
			require.LessOrEqual(t, r.Latency.P50, r.Latency.P99)
		})
	}
}

func TestRunResendsUnackedRecords(t *testing.T) {
	tests := []struct {
		name        string
		cfg         ackserver.Config
		wantResends int64
	}{
		{name: "first_acks_dropped", cfg: ackserver.Config{DropFirst: 3}, wantResends: 3},
		{name: "every_5th_ack_dropped", cfg: ackserver.Config{DropEvery: 5}, wantResends: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ackservertest.Start(t, tc.cfg)
			cfg := fleetConfig(t, f, 1)
			cfg.ResendTimeout, cfg.Duration = 50*time.Millisecond, 600*time.Millisecond
			r, logged := run(t, cfg, nil)
			requireConsistent(t, cfg, r, logged)
			require.GreaterOrEqual(t, r.Resends, tc.wantResends)
			require.Equal(t, r.Acked, f.Server.Stats().Acks)
			// A resend can cross the ack of its first transmission and still
			// be on its way when the run ends.
			require.Eventually(t, func() bool { return f.Server.Stats().Frames == r.Sent+r.Resends },
				2*time.Second, 5*time.Millisecond, "every transmission reaches the server")
			require.Equal(t, fmt.Sprintf("run-%d", 1), logged[0].TxID, "the first record is acked under its own txid")
		})
	}
}

func TestRunCountsErrorFrames(t *testing.T) {
	f := ackservertest.Start(t, ackserver.Config{RejectEvery: 4})
	cfg := fleetConfig(t, f, 2)
	cfg.Window, cfg.Duration = 4, 400*time.Millisecond
	r, logged := run(t, cfg, nil)
	requireConsistent(t, cfg, r, logged)
	require.Positive(t, r.Errors)
	require.Equal(t, f.Server.Stats().Rejected, r.Errors)
	require.Zero(t, r.Resends, "rejected records are not resent")
}

func TestRunReconnects(t *testing.T) {
	tests := []struct {
		name   string
		cfg    ackserver.Config
		during func(*testing.T, *ackservertest.Fixture) func()
	}{
		{name: "connections_dropped", during: func(_ *testing.T, f *ackservertest.Fixture) func() {
			return func() {
				time.Sleep(300 * time.Millisecond)
				f.Server.CloseConnections()
			}
		}},
		{name: "close_after_10_frames", cfg: ackserver.Config{CloseAfter: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ackservertest.Start(t, tc.cfg)
			cfg := fleetConfig(t, f, 2)
			cfg.Window, cfg.Duration, cfg.ResendTimeout = 4, time.Second, 200*time.Millisecond
			var during func()
			if tc.during != nil {
				during = tc.during(t, f)
			}
			r, logged := run(t, cfg, during)
			requireConsistent(t, cfg, r, logged)
			require.Positive(t, r.Reconnects)
			require.Positive(t, r.Resends, "records in flight at the drop were resent")
			require.Greater(t, f.Server.Stats().Connections, int64(2))
		})
	}
}

func TestRunSurvivesServerRestart(t *testing.T) {
	f := ackservertest.Start(t, ackserver.Config{})
	cfg := fleetConfig(t, f, 2)
	cfg.Window, cfg.Duration, cfg.ResendTimeout = 2, 1500*time.Millisecond, 200*time.Millisecond

	path := filepath.Join(t.TempDir(), "acked.tsv")
	file, err := os.Create(path)
	require.NoError(t, err)
	acks := vehiclesim.NewAckLog(file)
	sim, err := vehiclesim.New(cfg, vehiclesim.Settings{AckLog: acks})
	require.NoError(t, err)
	reports := make(chan vehiclesim.Report, 1)
	go func() { reports <- sim.Run(t.Context()) }()

	time.Sleep(300 * time.Millisecond)
	before := f.Server.Stats().Acks
	f.Stop(t)
	time.Sleep(200 * time.Millisecond)
	f.Restart(t, ackserver.Config{}) // the new server listens on the same address
	r := <-reports
	require.NoError(t, acks.Close())
	require.NoError(t, file.Close())
	logged, err := vehiclesim.ReadAckLog(path)
	require.NoError(t, err)

	requireConsistent(t, cfg, r, logged)
	require.Positive(t, before)
	require.Positive(t, f.Server.Stats().Acks, "acks after the restart")
	require.Positive(t, r.Reconnects)
	require.Positive(t, r.DialErrors, "dials while the server was down")
}

func TestRunRespectsRate(t *testing.T) {
	f := ackservertest.Start(t, ackserver.Config{})
	cfg := fleetConfig(t, f, 2)
	cfg.Rate, cfg.Window, cfg.Duration = 20, 4, 500*time.Millisecond
	r, logged := run(t, cfg, nil)
	requireConsistent(t, cfg, r, logged)
	require.Positive(t, r.Sent)
	require.LessOrEqual(t, r.Sent, int64(2*(10+1)), "20/s for 0.5 s per vehicle")
}

func TestRunReportsProgress(t *testing.T) {
	f := ackservertest.Start(t, ackserver.Config{})
	cfg := fleetConfig(t, f, 1)
	cfg.Duration, cfg.Warmup, cfg.ReportInterval = 600*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond
	var mu sync.Mutex
	var progress []vehiclesim.Report
	sim, err := vehiclesim.New(cfg, vehiclesim.Settings{OnReport: func(r vehiclesim.Report) {
		mu.Lock()
		progress = append(progress, r)
		mu.Unlock()
	}})
	require.NoError(t, err)
	final := sim.Run(t.Context())

	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(progress), 3)
	var sum int64
	for _, p := range progress {
		require.False(t, p.Final)
		require.Equal(t, 1, p.Vehicles)
		sum += p.Acked
	}
	require.Less(t, final.PeriodSec, 0.6, "the warm-up is excluded")
	require.Greater(t, f.Server.Stats().Acks, final.Acked, "the warm-up's acks are excluded")
	require.LessOrEqual(t, sum, f.Server.Stats().Acks)
}
