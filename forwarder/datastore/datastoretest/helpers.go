package datastoretest

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// WaitListening waits until something accepts TCP connections on addr.
func WaitListening(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s after %s: %v", addr, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Process is a child process started for a test.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// StartProcess starts cmd in its own process group and kills the group when
// the test ends (also on failure).
func StartProcess(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start(), "start %s", cmd.Path)
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Stop)
	return p
}

// Stop kills the process group and waits for the process; safe to call
// twice.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Synthetic returns n V records spread over vins vehicles, indexes
// first, first+1, ... in partition 0. Each payload holds one datum whose
// value is the record's index, so consumers can check order per VIN.
func Synthetic(t testing.TB, first uint64, n, vins int) []datastore.Record {
	t.Helper()
	out := make([]datastore.Record, n)
	for i := range out {
		idx := first + uint64(i)
		vin := VIN(i % vins)
		p := &vehiclepb.Payload{
			Vin:       vin,
			CreatedAt: timestamppb.New(time.Unix(1700000000, 0)),
			Data: []*vehiclepb.Datum{{
				Key:   vehiclepb.Field_Odometer,
				Value: &vehiclepb.Value{Value: &vehiclepb.Value_LongValue{LongValue: int64(idx)}},
			}},
		}
		payload, err := proto.Marshal(p)
		require.NoError(t, err)
		out[i] = datastore.Record{Index: idx, WAL: &walpb.Record{
			Vin: vin, Topic: "V", Txid: []byte("tx-" + strconv.FormatUint(idx, 10)),
			ReceivedAtMs: 1700000000000, DeviceClientVersion: "1.2.0", Payload: payload,
		}}
	}
	return out
}

// VIN returns a synthetic 17-character VIN numbered i.
func VIN(i int) string { return fmt.Sprintf("5YJ3E1EA1KF%06d", i) }

// SyntheticIndex decodes the index that Synthetic stored in a V payload.
func SyntheticIndex(t testing.TB, payload []byte) uint64 {
	t.Helper()
	var p vehiclepb.Payload
	require.NoError(t, proto.Unmarshal(payload, &p))
	require.Len(t, p.GetData(), 1)
	return uint64(p.GetData()[0].GetValue().GetLongValue())
}

// Meter measures a benchmark's throughput by wall clock and by CPU time of
// this process (user + system, all threads, in-process emulators
// included), which stays meaningful on a machine shared with other work.
type Meter struct {
	wall time.Time
	cpu  time.Duration
}

// StartMeter starts measuring.
func StartMeter() Meter { return Meter{wall: time.Now(), cpu: cpuTime()} }

// Report adds records/s and records/cpu-s for n records to b.
func (m Meter) Report(b *testing.B, n int) {
	b.ReportMetric(float64(n)/time.Since(m.wall).Seconds(), "records/s")
	if cpu := cpuTime() - m.cpu; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "records/cpu-s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
