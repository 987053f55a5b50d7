package datastoretest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// Vector is one conformance case that the reference server dispatched.
type Vector struct {
	// Name is the case name (file prefix).
	Name string
	// Record is the WAL record the gateway would have stored for the case.
	Record datastore.Record
	// Dispatch is CASE.dispatch.pb: the value with transmit_decoded_records off.
	Dispatch []byte
	// Decoded is CASE.decoded.json: the value with transmit_decoded_records on.
	Decoded []byte
	// Metadata is dispatch_metadata from CASE.result.json: the Kafka headers
	// and Pub/Sub attributes (receivedat varies between runs).
	Metadata map[string]string
	// LoggerLine is the line of CASE.json (the logger's output) whose
	// metadata.txid is this record's; nil when the case has none.
	LoggerLine map[string]any
}

// Vectors loads every conformance case that has a dispatched record, sorted
// by name. Record indexes are 1, 2, ... in that order, in partition 0.
func Vectors(t testing.TB) []Vector {
	t.Helper()
	dir := testenv.ConformanceDir(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.dispatch.pb"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no *.dispatch.pb vectors in %s", dir)
	sort.Strings(paths)
	out := make([]Vector, 0, len(paths))
	for i, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".dispatch.pb")
		out = append(out, loadVector(t, dir, name, uint64(i+1)))
	}
	return out
}

func loadVector(t testing.TB, dir, name string, index uint64) Vector {
	t.Helper()
	v := Vector{Name: name}
	v.Dispatch = readFile(t, dir, name+".dispatch.pb")
	v.Decoded = readFile(t, dir, name+".decoded.json")
	var result struct {
		Extras struct {
			Metadata map[string]string `json:"dispatch_metadata"`
		} `json:"upstream_extras"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, dir, name+".result.json"), &result), name)
	v.Metadata = result.Extras.Metadata
	require.NotEmpty(t, v.Metadata, "%s: no dispatch_metadata", name)
	v.LoggerLine = loggerLine(t, dir, name, v.Metadata["txid"])
	v.Record = datastore.Record{Partition: 0, Index: index, WAL: walRecord(t, v.Metadata, v.Dispatch)}
	return v
}

func walRecord(t testing.TB, md map[string]string, payload []byte) *walpb.Record {
	t.Helper()
	received, err := strconv.ParseInt(md["receivedat"], 10, 64)
	require.NoError(t, err, "receivedat")
	return &walpb.Record{
		Vin:                 md["vin"],
		Topic:               md["txtype"],
		Txid:                []byte(md["txid"]),
		ReceivedAtMs:        received,
		DeviceClientVersion: md["device_client_version"],
		NetworkInterface:    "wifi",
		ClientType:          "vehicle_device",
		Payload:             payload,
	}
}

func readFile(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err, "conformance vector %s", name)
	return b
}

func loggerLine(t testing.TB, dir, name, txid string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return nil
	}
	var lines []map[string]any
	require.NoError(t, json.Unmarshal(raw, &lines), name)
	for _, l := range lines {
		if md, ok := l["metadata"].(map[string]any); ok && md["txid"] == txid {
			return l
		}
	}
	return nil
}
