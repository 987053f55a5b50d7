package ingest_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/gateway/internal/ingest"
	"github.com/fleetrelay/fleetrelay/gateway/internal/ratelimit"
	"github.com/fleetrelay/fleetrelay/protos/envelope"
	"github.com/fleetrelay/fleetrelay/protos/walpb"
	"github.com/fleetrelay/fleetrelay/shared/record"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// conformanceConn is the connection the vectors were recorded on: the
// client certificate's identity and the request headers of MANIFEST.md.
var conformanceConn = ingest.Conn{
	VIN:                 "5YJ3E1EA1KF000001",
	ClientType:          "vehicle_device",
	DeviceClientVersion: "1.2.0",
	NetworkInterface:    "wifi",
	ConnectionID:        "2f0c3a6e-5d6b-4b8e-9a37-1c2d3e4f5a6b",
}

// serverConfigs maps case name prefixes to the server config they were
// recorded with (MANIFEST.md); other cases use config.json.
var serverConfigs = map[string]string{
	"rate_limit_enforced":        "config_rl_enforced.json",
	"rate_limit_documented_keys": "config_rl_documented.json",
	"reliable_ack_redis":         "config_reliable_redis.json",
}

// caseResult is the part of CASE.result.json the tests use.
type caseResult struct {
	SentAs     string `json:"sent_as"`
	ClientCert string `json:"client_cert"`
	Extras     struct {
		Metadata map[string]string `json:"dispatch_metadata"`
	} `json:"upstream_extras"`
}

// vector is one conformance case.
type vector struct {
	name     string
	dir      string
	in, out  [][]byte // frames sent, answers received, in order
	result   caseResult
	config   ingest.Config
	dispatch []byte // CASE.dispatch.pb, nil when nothing was dispatched
	decoded  []byte // CASE.decoded.json
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	dir := testenv.ConformanceDir(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.in.bin"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	vs := make([]vector, 0, len(paths))
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".in.bin")
		v := vector{name: name, dir: dir, in: readSeries(t, dir, name+".in"), out: readSeries(t, dir, name+".out")}
		require.NoError(t, json.Unmarshal(mustRead(t, filepath.Join(dir, name+".result.json")), &v.result))
		v.config = serverConfig(t, dir, configFor(name))
		v.dispatch = readOptional(t, filepath.Join(dir, name+".dispatch.pb"))
		v.decoded = readOptional(t, filepath.Join(dir, name+".decoded.json"))
		vs = append(vs, v)
	}
	return vs
}

func configFor(name string) string {
	for prefix, cfg := range serverConfigs {
		if strings.HasPrefix(name, prefix) {
			return cfg
		}
	}
	return "config.json"
}

// readSeries reads base.bin, base.2.bin, base.3.bin, ... until one is missing.
func readSeries(t *testing.T, dir, base string) [][]byte {
	t.Helper()
	var frames [][]byte
	for i := 1; ; i++ {
		file := base + ".bin"
		if i > 1 {
			file = fmt.Sprintf("%s.%d.bin", base, i)
		}
		b := readOptional(t, filepath.Join(dir, file))
		if b == nil {
			return frames
		}
		frames = append(frames, b)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func readOptional(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return b
}

// serverConfig maps a reference server config file to an ingest.Config.
func serverConfig(t *testing.T, dir, file string) ingest.Config {
	t.Helper()
	var cfg struct {
		Records   map[string][]string `json:"records"`
		RateLimit *struct {
			Enabled                   bool  `json:"enabled"`
			MessageLimit              int   `json:"message_limit"`
			MessageIntervalTime       int   `json:"message_interval_time"`
			MessageIntervalTimeSecond int64 `json:"MessageIntervalTimeSecond"`
		} `json:"rate_limit"`
	}
	require.NoError(t, json.Unmarshal(mustRead(t, filepath.Join(dir, "server_configs", file)), &cfg))
	var out ingest.Config
	for topic := range cfg.Records {
		out.Topics = append(out.Topics, topic)
	}
	if rl := cfg.RateLimit; rl != nil {
		out.RateLimit = ratelimit.Config{Enabled: rl.Enabled, MessageLimit: rl.MessageLimit,
			MessageIntervalTime: rl.MessageIntervalTime, MessageIntervalTimeSecond: rl.MessageIntervalTimeSecond}
	}
	return out
}

// answer builds the frame the gateway sends for a result, or nil.
func answer(enc *envelope.Encoder, res ingest.Result) []byte {
	switch res.Action {
	case ingest.ActionStore, ingest.ActionAck:
		return append([]byte(nil), enc.Ack(res.TxID, res.Topic)...)
	case ingest.ActionError:
		return append([]byte(nil), enc.Error(res.TxID, envelope.ErrorText)...)
	default:
		return nil
	}
}

// expectedAnswers returns the reference's answers with fleetrelay's
// deliberate deviations applied, each explained.
func expectedAnswers(t *testing.T, v vector) [][]byte {
	t.Helper()
	switch {
	case len(v.in) == 1 && len(v.out) == 2 && string(v.out[0]) == string(v.out[1]):
		// Deviation: the reference acks a non-stream frame twice (its
		// unknown-message-type branch falls through); fleetrelay acks once.
		return v.out[:1]
	case v.config.RateLimit.Enabled && v.config.RateLimit.MessageIntervalTimeSecond == 0:
		// Deviation: the reference ignores message_interval_time and never
		// limits; fleetrelay honours it. All frames arrive within the interval,
		// so only the first message_limit are acked.
		n := min(v.config.RateLimit.MessageLimit, len(v.out))
		return v.out[:n]
	case len(v.out) == 0 && v.dispatch != nil:
		// Deviation: the reference's reliable-ack datastore failed, so it never
		// acked; fleetrelay acks once the record is in the WAL, and forwards it
		// when the datastore is back.
		md := v.result.Extras.Metadata
		return [][]byte{envelope.NewEncoder().Ack([]byte(md["txid"]), []byte(md["txtype"]))}
	default:
		return v.out
	}
}

func TestConformance(t *testing.T) {
	now := time.UnixMilli(1_795_440_735_344)
	for _, v := range loadVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			if v.result.SentAs != "binary" || v.result.ClientCert != "certs/client.crt" {
				// Text messages close the connection and an unknown issuer is
				// refused at the upgrade: no frame ever reaches Process.
				require.True(t, v.out == nil && v.dispatch == nil, "case %s must have no answer and no record", v.name)
				return
			}
			p, err := ingest.NewProcessor(v.config, ingest.Settings{})
			require.NoError(t, err)
			enc := envelope.NewEncoder()
			var answers [][]byte
			var stored []*walpb.Record
			for _, frame := range v.in {
				conn := conformanceConn
				res := p.Process(frame, &conn, now)
				if a := answer(enc, res); a != nil {
					answers = append(answers, a)
				}
				if rec := storedRecord(t, res); rec != nil {
					stored = append(stored, rec)
				}
			}
			require.Equal(t, expectedAnswers(t, v), answers)
			checkStored(t, v, stored, now)
		})
	}
}

// checkStored compares the first stored record with what the reference
// dispatched, and checks every stored record's identity.
func checkStored(t *testing.T, v vector, stored []*walpb.Record, now time.Time) {
	t.Helper()
	if v.dispatch == nil {
		require.Empty(t, stored)
		return
	}
	require.NotEmpty(t, stored)
	for _, rec := range stored {
		require.Equal(t, conformanceConn.VIN, rec.GetVin())
	}
	rec := stored[0]
	md := v.result.Extras.Metadata
	require.Equal(t, md["vin"], rec.GetVin())
	require.Equal(t, md["txid"], string(rec.GetTxid()))
	require.Equal(t, md["txtype"], rec.GetTopic())
	require.Equal(t, md["device_client_version"], rec.GetDeviceClientVersion())
	require.Equal(t, now.UnixMilli(), rec.GetReceivedAtMs())
	require.Equal(t, conformanceConn.NetworkInterface, rec.GetNetworkInterface())
	require.Equal(t, conformanceConn.ConnectionID, rec.GetConnectionId())
	require.Equal(t, conformanceConn.ClientType, rec.GetClientType())
	require.False(t, rec.GetGenerated())

	want, err := record.Unmarshal(rec.GetTopic(), v.dispatch)
	require.NoError(t, err)
	got, err := record.Unmarshal(rec.GetTopic(), rec.GetPayload())
	require.NoError(t, err)
	require.True(t, proto.Equal(want, got), "payload differs from %s.dispatch.pb:\nwant %v\ngot  %v", v.name, want, got)
	require.Equal(t, v.dispatch, rec.GetPayload(), "payload bytes differ from %s.dispatch.pb", v.name)

	js, err := record.DecodedJSON(rec.GetTopic(), rec.GetPayload())
	require.NoError(t, err)
	require.JSONEq(t, string(v.decoded), string(js))
}
