package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/test/vehiclesim"
	"github.com/fleetrelay/fleetrelay/wal"
)

// system is one gateway + forwarder deployment in a temporary directory.
type system struct {
	t         *testing.T
	dir       string
	config    string
	addr      string
	walDir    string
	deliverTo string
}

// newSystem writes a development PKI and a config whose every topic goes to
// the logger sink, which writes JSON lines to a file.
func newSystem(t *testing.T, vehicles int) *system {
	t.Helper()
	dir := t.TempDir()
	s := &system{t: t, dir: dir, walDir: filepath.Join(dir, "wal"), deliverTo: filepath.Join(dir, "delivered.jsonl")}
	pki := filepath.Join(dir, "pki")
	out, err := runCmd(t, dir, "devpki", "-dir", pki, "-vehicles", fmt.Sprint(vehicles))
	require.NoError(t, err, "devpki: %s", out)

	port := freePort(t)
	s.addr = fmt.Sprintf("127.0.0.1:%d", port)
	cfg := map[string]any{
		"host": "127.0.0.1", "port": port, "log_level": "warn", "json_log_enable": true,
		"namespace": "e2e",
		"tls": map[string]any{
			"server_cert": filepath.Join(pki, "server.crt"), "server_key": filepath.Join(pki, "server.key"),
			"ca_file": filepath.Join(pki, "ca.crt"),
		},
		"records": map[string]any{
			"V": []string{"logger"}, "alerts": []string{"logger"}, "errors": []string{"logger"},
		},
		"logger":    map[string]any{"file": s.deliverTo},
		"wal":       map[string]any{"dir": s.walDir, "partitions": 4},
		"forwarder": map[string]any{"batch_linger_ms": 5},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	require.NoError(t, err)
	s.config = filepath.Join(dir, "config.json")
	require.NoError(t, os.WriteFile(s.config, b, 0o600))
	return s
}

func (s *system) startGateway() *proc {
	p := start(s.t, s.dir, "gateway", "-config", s.config)
	waitListening(s.t, s.addr, 30*time.Second)
	return p
}

func (s *system) startForwarder() *proc {
	return start(s.t, s.dir, "forwarder", "-config", s.config)
}

func (s *system) startVehicles(vehicles, window int, ackedFile string) *proc {
	return start(s.t, s.dir, "vehiclesim",
		"-url", "wss://"+s.addr+"/", "-pki", filepath.Join(s.dir, "pki"),
		"-vehicles", fmt.Sprint(vehicles), "-window", fmt.Sprint(window), "-rate", "200",
		"-resend-timeout", "2s", "-backoff-max", "500ms", "-drain-timeout", "10s",
		"-acked-file", ackedFile)
}

// key identifies one vehicle record end to end.
type key struct{ vin, txid, topic string }

func ackedKeys(t *testing.T, path string) map[key]bool {
	t.Helper()
	recs, err := vehiclesim.ReadAckLog(path)
	require.NoError(t, err)
	out := make(map[key]bool, len(recs))
	for _, r := range recs {
		out[key{r.VIN, r.TxID, r.Topic}] = true
	}
	return out
}

// walKeys reads every durable record of every partition.
func walKeys(t *testing.T, dir string) map[key]int {
	t.Helper()
	meta, err := wal.ReadMeta(dir)
	require.NoError(t, err)
	out := map[key]int{}
	for p := range meta.Partitions {
		r, err := wal.OpenReader(dir, p, 0)
		require.NoError(t, err)
		for {
			e, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "partition %d", p)
			var rec walpb.Record
			require.NoError(t, proto.Unmarshal(e.Data, &rec))
			require.Equal(t, p, wal.PartitionFor([]byte(rec.GetVin()), meta.Partitions), "record in the wrong partition")
			out[key{rec.GetVin(), string(rec.GetTxid()), rec.GetTopic()}]++
		}
		require.NoError(t, r.Close())
	}
	return out
}

// deliveredKeys reads the logger sink's JSON lines.
func deliveredKeys(t *testing.T, path string) map[key]int {
	t.Helper()
	out := map[key]int{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return out
	}
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var line struct {
			VIN      string `json:"vin"`
			Metadata struct {
				TxID   string `json:"txid"`
				TxType string `json:"txtype"`
			} `json:"metadata"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue // a line torn by SIGKILL; its record is delivered again
		}
		out[key{line.VIN, line.Metadata.TxID, line.Metadata.TxType}]++
	}
	require.NoError(t, sc.Err())
	return out
}

// missing lists acked records absent from have (at most 5, for the message).
func missing(acked map[key]bool, have map[key]int) (n int, sample []key) {
	for k := range acked {
		if have[k] == 0 {
			n++
			if len(sample) < 5 {
				sample = append(sample, k)
			}
		}
	}
	return n, sample
}

func runCmd(t *testing.T, dir, name string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := execCommand(bin(t, name), args...)
	cmd.Dir = dir
	return cmd.CombinedOutput()
}
