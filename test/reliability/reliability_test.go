package reliability

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestShortFaultRun runs the suite for a short time with Kafka, MQTT and
// the logger as sinks, one of each main fault (gateway, forwarder and Kafka
// SIGKILLs, a Mosquitto restart, a reconnect storm, the WAL disk budget)
// and every hostile client, and requires that nothing acked
// was lost, that order per vehicle held, that every fault took effect and
// the system recovered, and that every hostile attempt was refused.
func TestShortFaultRun(t *testing.T) {
	root, err := RepoRoot()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bins, err := Build(ctx, root, filepath.Join(dir, "bin"))
	require.NoError(t, err)

	cfg := DefaultConfig(30 * time.Second)
	cfg.Binaries, cfg.WorkDir = bins, dir
	cfg.Vehicles, cfg.Window, cfg.Rate = 4, 4, 30
	cfg.FaultEvery = 2 * time.Second
	cfg.WALBudgetBytes = 512 << 10 // filled in seconds at this load
	cfg.Faults = []string{
		FaultGatewayKill, FaultKafkaKill, FaultForwarderKill, FaultMQTTRestart, FaultReconnectStorm, FaultDiskBudget,
	}
	cfg.SettleTimeout = time.Minute
	var progress bytes.Buffer
	cfg.Progress = &progress

	rep, err := Run(ctx, cfg)
	var summary bytes.Buffer
	rep.WriteText(&summary)
	t.Logf("progress:\n%s\nreport:\n%s", progress.String(), summary.String())
	require.NoError(t, err)

	require.Empty(t, rep.Problems)
	require.Greater(t, rep.Acked, 1000, "too few acks to mean anything")
	require.Zero(t, rep.Lost(), "acked records lost")
	require.Len(t, rep.SinkResults, len(cfg.Sinks))
	for _, s := range rep.SinkResults {
		require.Zero(t, s.OrderViolations, "sink %s: order per vehicle", s.Sink)
		require.Zero(t, s.Unmapped+s.Mismatched, "sink %s: messages not traced to the WAL", s.Sink)
		require.Zero(t, s.UndeliveredWAL, "sink %s: WAL entries never delivered", s.Sink)
		if s.Sink != "mqtt" { // mqtt counts messages, several per record
			require.GreaterOrEqual(t, s.Distinct, rep.Acked, "sink %s", s.Sink)
		}
	}
	seen := map[string]bool{}
	for _, f := range rep.Faults {
		seen[f.Kind] = true
		require.True(t, f.Triggered, "fault %s at %s did not take effect: %s", f.Kind, f.At, f.Note)
		require.GreaterOrEqual(t, f.AcksResumedMs, int64(0), "fault %s at %s: acks never resumed", f.Kind, f.At)
		require.GreaterOrEqual(t, f.CaughtUpMs, int64(0), "fault %s at %s: sinks never caught up", f.Kind, f.At)
	}
	for _, k := range cfg.Faults {
		require.True(t, seen[k], "fault %s was not injected", k)
	}
	require.Zero(t, rep.HostileStored, "hostile records reached the WAL")
	kinds := map[string]bool{}
	for _, h := range rep.Hostile {
		kinds[h.Kind] = true
		require.Zero(t, h.Accepted, "hostile %s accepted: %s", h.Kind, h.Example)
		require.Equal(t, h.Attempted, h.Refused, "hostile %s", h.Kind)
	}
	for _, k := range hostileKinds {
		require.True(t, kinds[k], "no %s attempt reached the gateway", k)
	}
	require.False(t, rep.Failed())
}
