package sinkkill

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
	"github.com/fleetrelay/fleetrelay/wal"
)

// walPartitions is the number of WAL partitions of every test.
const walPartitions = 4

// vins is the number of vehicles the records are spread over.
const vins = 16

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// forwarderBinary builds the forwarder command once per test binary. It is
// built without the race detector, as test/e2e builds it (so `make test`
// compiles it once): a race-instrumented forwarder starts and delivers
// several times slower, and the race detector already runs over the
// forwarder's packages in their own tests.
func forwarderBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root := testenv.RepoRoot(t)
		binDir, buildErr = os.MkdirTemp("", "fleetrelay-sinkkill-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, "forwarder"), "./forwarder/cmd/forwarder")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build forwarder: %w\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return filepath.Join(binDir, "forwarder")
}

// fixture is a WAL the test writes, a config file pointing at it and one
// sink's datastore, plus what the test appended.
type fixture struct {
	t      *testing.T
	dir    string
	walDir string
	config string
	sink   string
	store  datastore
	env    []string // for the forwarder processes
	log    *wal.Log

	mu    sync.Mutex
	vin   []string             // record number → VIN
	byPos map[wal.Position]int // WAL position → record number
}

// newFixture writes the config for sink (its section from ds) and opens the
// WAL for writing until the test ends.
func newFixture(t *testing.T, ds datastore) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{
		t: t, dir: dir, walDir: filepath.Join(dir, "wal"), config: filepath.Join(dir, "config.json"),
		sink: ds.name(), store: ds, env: ds.childEnv(), byPos: map[wal.Position]int{},
	}
	cfg := map[string]any{
		"port":      4443,
		"tls":       map[string]any{"server_cert": "server.crt", "server_key": "server.key"},
		"namespace": ds.namespace(),
		"records":   map[string]any{"V": []string{f.sink}},
		"wal":       map[string]any{"dir": f.walDir, "partitions": walPartitions},
		"forwarder": map[string]any{
			"batch_max_records": 250, "batch_linger_ms": 5,
			"partition_rebalance_interval_ms": 100, "status_interval_ms": 50,
			"retry": map[string]any{"initial_interval_ms": 20, "max_interval_ms": 250},
		},
		"log_level": "info",
	}
	for k, v := range ds.sections() {
		cfg[k] = v
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f.config, b, 0o644))

	l, err := wal.Open(f.walDir, wal.Options{Partitions: walPartitions, NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	f.log = l
	return f
}

// vinOf returns the VIN of record number n.
func vinOf(n int) string { return fmt.Sprintf("5YJ3E1EA1KF%06d", n%vins) }

// record returns record number n: a V record of one datum, Odometer = n,
// so that datastores without headers (Kinesis, MQTT) still name the record
// by its content; txid "tx-<n>".
func record(n int) *walpb.Record {
	p := &vehiclepb.Payload{
		Vin:       vinOf(n),
		CreatedAt: timestamppb.New(time.Unix(1700000000+int64(n), 0)),
		Data: []*vehiclepb.Datum{{
			Key:   vehiclepb.Field_Odometer,
			Value: &vehiclepb.Value{Value: &vehiclepb.Value_LongValue{LongValue: int64(n)}},
		}},
	}
	payload, err := proto.Marshal(p)
	if err != nil {
		panic(err) // a fixed, valid message
	}
	return &walpb.Record{
		Vin: vinOf(n), Topic: "V", Txid: []byte(txid(n)), ReceivedAtMs: time.Now().UnixMilli(),
		DeviceClientVersion: "1.2.0", Payload: payload,
	}
}

func txid(n int) string { return fmt.Sprintf("tx-%d", n) }

// appendRecords appends records number from … from+n-1 to the WAL, in
// chunks of 500, pausing pause after each (a gateway that keeps writing),
// and stops early, after a whole chunk, once stop (if not nil) is closed.
// Within a chunk the VINs append concurrently, as vehicles do (the WAL
// commits them in groups), each VIN's records in number order: record
// numbers grow with the WAL index within a VIN.
func (f *fixture) appendRecords(ctx context.Context, from, n int, pause time.Duration, stop <-chan struct{}) error {
	const chunk = 500
	for lo := from; lo < from+n; lo += chunk {
		hi := min(lo+chunk, from+n)
		pos := make([]wal.Position, hi-lo)
		errs := make([]error, vins)
		var wg sync.WaitGroup
		for v := range vins {
			wg.Go(func() {
				for i := lo + (v-lo%vins+vins)%vins; i < hi; i += vins {
					b, err := proto.Marshal(record(i))
					if err == nil {
						pos[i-lo], err = f.log.Append(ctx, []byte(vinOf(i)), b)
					}
					if err != nil {
						errs[v] = fmt.Errorf("append record %d: %w", i, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		f.mu.Lock()
		if len(f.vin) != lo {
			f.mu.Unlock()
			return fmt.Errorf("records appended out of order: %d after %d", lo, len(f.vin))
		}
		for i := lo; i < hi; i++ {
			f.vin = append(f.vin, vinOf(i))
			f.byPos[pos[i-lo]] = i
		}
		f.mu.Unlock()
		if pause > 0 && hi < from+n {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-stop:
				return nil
			case <-time.After(pause):
			}
		}
	}
	return nil
}

// numberAt returns the record number at a WAL position.
func (f *fixture) numberAt(partition int, index uint64) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.byPos[wal.Position{Partition: partition, Index: index}]
	return n, ok
}

// appended returns how many records the test appended.
func (f *fixture) appended() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.vin)
}

// progress returns the sum over partitions of the sink's committed cursor,
// and the number of records appended (the WAL's last indexes summed: the
// log started empty and Append returns once its record is durable).
func (f *fixture) progress() (committed, last uint64) {
	f.t.Helper()
	for p := range walPartitions {
		c, err := wal.LoadCursor(f.walDir, f.sink, p)
		require.NoError(f.t, err)
		committed += c
	}
	return committed, uint64(f.appended())
}

// waitCaughtUp waits until the sink's cursors are at the WAL's end.
func (f *fixture) waitCaughtUp(children ...*child) {
	f.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		c, last := f.progress()
		if c == last {
			return
		}
		f.checkAlive(children...)
		if time.Now().After(deadline) {
			f.t.Fatalf("sink %s committed %d of %d WAL entries after 90 s", f.sink, c, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkAlive fails the test when the datastore or one of the forwarders
// has exited.
func (f *fixture) checkAlive(children ...*child) {
	f.t.Helper()
	if err := f.store.failed(); err != nil {
		f.t.Fatalf("datastore of %s: %v", f.sink, err)
	}
	for _, ch := range children {
		if ch.exited() {
			f.t.Fatalf("forwarder %d exited: %v\n%s", ch.pid(), ch.err, ch.tail())
		}
	}
}

// child is a forwarder process.
type child struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// startForwarder starts `forwarder run -sinks <sink>` on the fixture's
// config, its output in a log file that is shown when the test fails.
func (f *fixture) startForwarder() *child {
	t := f.t
	t.Helper()
	logFile := filepath.Join(f.dir, fmt.Sprintf("forwarder-%d.log", time.Now().UnixNano()))
	out, err := os.Create(logFile)
	require.NoError(t, err)
	cmd := exec.Command(forwarderBinary(t), "run", "-config", f.config, "-sinks", f.sink)
	cmd.Dir = f.dir
	cmd.Env = childEnv(f.env)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		_ = out.Close()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("--- forwarder %d (%s) ---\n%s", c.pid(), filepath.Base(logFile), c.tail())
		}
	})
	return c
}

// childEnv is this process's environment without the variables that would
// point a forwarder at another datastore, plus extra.
func childEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "KINESIS_STREAM_") ||
			k == "PUBSUB_EMULATOR_HOST" || k == "GOOGLE_APPLICATION_CREDENTIALS" || k == "GOFLAGS" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill SIGKILLs the process and waits until it is gone.
func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop SIGTERMs the process and returns its exit code.
func (c *child) stop(t *testing.T) int {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		// Its goroutines tell where it hangs.
		_ = c.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("forwarder %d did not stop within 30 s of SIGTERM; its output ends with:\n%s", c.pid(), c.tailN(60000))
	}
	return c.cmd.ProcessState.ExitCode()
}

// tail returns the end of the process's output.
func (c *child) tail() string { return c.tailN(3000) }

// tailN returns the last n bytes of the process's output.
func (c *child) tailN(n int) string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// partitionStatus is the part of a `forwarder status -json` line the tests
// read.
type partitionStatus struct {
	Partition int    `json:"partition"`
	Running   bool   `json:"running"`
	Owner     string `json:"owner"`
	Cursor    uint64 `json:"cursor"`
	LastIndex uint64 `json:"last_index"`
	LastError string `json:"last_error"`
	Stopped   string `json:"stopped"`
}

// status runs `forwarder status -sink <sink> -json`.
func (f *fixture) status() []partitionStatus {
	t := f.t
	t.Helper()
	cmd := exec.Command(forwarderBinary(t), "status", "-config", f.config, "-sink", f.sink, "-json")
	cmd.Env = childEnv(f.env)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "forwarder status: %s", stderr.String())
	var sts []partitionStatus
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var s partitionStatus
		require.NoError(t, json.Unmarshal(sc.Bytes(), &s), "status line %q", sc.Text())
		sts = append(sts, s)
	}
	require.Len(t, sts, walPartitions, "status output:\n%s", out)
	return sts
}

// waitOwnedBy waits until c owns every partition, as `forwarder status`
// shows it: the process is up and delivering (and handles SIGTERM).
func (f *fixture) waitOwnedBy(c *child) {
	f.t.Helper()
	f.waitOwners(fmt.Sprintf("%d owning every partition", c.pid()), func(o map[int][]int) bool {
		return len(o) == 1 && len(o[c.pid()]) == walPartitions
	}, c)
}

// waitOwners polls `forwarder status` until the partitions' owners satisfy
// cond, and returns them; what describes cond for the failure message.
func (f *fixture) waitOwners(what string, cond func(map[int][]int) bool, children ...*child) map[int][]int {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		o := owners(f.status())
		if cond(o) {
			return o
		}
		f.checkAlive(children...)
		if time.Now().After(deadline) {
			f.t.Fatalf("no %s after 60 s: owners (pid → partitions) %v", what, o)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// owners maps each running partition's owner process id to its partitions.
func owners(sts []partitionStatus) map[int][]int {
	m := map[int][]int{}
	for _, s := range sts {
		if !s.Running {
			continue
		}
		// Owner is "host:pid".
		i := strings.LastIndexByte(s.Owner, ':')
		var pid int
		if _, err := fmt.Sscan(s.Owner[i+1:], &pid); err != nil {
			pid = -1
		}
		m[pid] = append(m[pid], s.Partition)
	}
	for _, ps := range m {
		slices.Sort(ps)
	}
	return m
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening waits until something accepts connections on addr, failing
// early when the process p (if any) has exited.
func waitListening(t *testing.T, addr string, p *exec.Cmd, exited func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if exited != nil && exited() {
			t.Fatalf("%s exited before listening on %s", p.Path, addr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s after 20 s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// errUnmapped marks a datastore message that names no record of the test.
var errUnmapped = errors.New("message maps to no record of this test")

// sysProcAttrGroup puts a datastore process in its own process group, dying
// with the test process.
func sysProcAttrGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup SIGKILLs the process group of cmd.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
