package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKillGatewayAndForwarder streams from simulated vehicles while the
// gateway and the forwarder are SIGKILLed and restarted several times. Every
// record a vehicle saw acked must be in the WAL and delivered by the
// forwarder; duplicates are allowed (delivery is at least once) and counted.
func TestKillGatewayAndForwarder(t *testing.T) {
	const vehicles, window, kills = 8, 8, 3
	s := newSystem(t, vehicles)
	acked := filepath.Join(s.dir, "acked.tsv")

	gw := s.startGateway()
	fw := s.startForwarder()
	sim := s.startVehicles(vehicles, window, acked)

	for i := range kills {
		time.Sleep(1500 * time.Millisecond)
		if i%2 == 0 {
			gw.kill()
			time.Sleep(200 * time.Millisecond)
			gw = s.startGateway()
		} else {
			fw.kill()
			time.Sleep(200 * time.Millisecond)
			fw = s.startForwarder()
		}
	}
	time.Sleep(1500 * time.Millisecond)
	require.NoError(t, sim.stop(30*time.Second), "simulator")

	want := ackedKeys(t, acked)
	require.Greater(t, len(want), 500, "too few acks to mean anything")

	n, sample := missing(want, walKeys(t, s.walDir))
	require.Zero(t, n, "acked records missing from the WAL, e.g. %v", sample)

	var delivered map[key]int
	require.Eventually(t, func() bool {
		delivered = deliveredKeys(t, s.deliverTo)
		n, _ = missing(want, delivered)
		return n == 0
	}, 60*time.Second, 200*time.Millisecond, "acked records not delivered: %d", n)

	dups := 0
	for _, c := range delivered {
		dups += c - 1
	}
	t.Logf("acked %d records across %d kills; delivered %d distinct, %d duplicates", len(want), kills, len(delivered), dups)
	require.NoError(t, fw.stop(25*time.Second), "forwarder SIGTERM")
	require.NoError(t, gw.stop(25*time.Second), "gateway SIGTERM")
}
