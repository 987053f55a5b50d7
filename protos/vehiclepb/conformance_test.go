package vehiclepb_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// recordTypes maps a topic to the payload message it carries.
var recordTypes = map[string]func() proto.Message{
	"V":            func() proto.Message { return &vehiclepb.Payload{} },
	"alerts":       func() proto.Message { return &vehiclepb.VehicleAlerts{} },
	"errors":       func() proto.Message { return &vehiclepb.VehicleErrors{} },
	"connectivity": func() proto.Message { return &vehiclepb.VehicleConnectivity{} },
}

// TestDispatchedRecords parses every record the reference server dispatched
// (CASE.dispatch.pb) with the generated types: no field may be unknown to
// the schema, re-marshalling gives the same bytes, and protojson gives the
// reference's JSON (CASE.decoded.json, compared as JSON).
func TestDispatchedRecords(t *testing.T) {
	dir := testenv.ConformanceDir(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.dispatch.pb"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".dispatch.pb")
		t.Run(name, func(t *testing.T) {
			newMsg, ok := recordTypes[dispatchedTopic(t, dir, name)]
			require.True(t, ok, "no payload type for the case's topic")
			wire, err := os.ReadFile(p)
			require.NoError(t, err)
			msg := newMsg()
			require.NoError(t, proto.Unmarshal(wire, msg))
			requireNoUnknownFields(t, msg)
			again, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
			require.NoError(t, err)
			require.Equal(t, wire, again)
			js, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(msg)
			require.NoError(t, err)
			want, err := os.ReadFile(filepath.Join(dir, name+".decoded.json"))
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(js))
		})
	}
}

func dispatchedTopic(t *testing.T, dir, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, name+".result.json"))
	require.NoError(t, err)
	var r struct {
		Extras struct {
			Metadata struct {
				TxType string `json:"txtype"`
			} `json:"dispatch_metadata"`
		} `json:"upstream_extras"`
	}
	require.NoError(t, json.Unmarshal(raw, &r))
	return r.Extras.Metadata.TxType
}

// requireNoUnknownFields fails if any message in m carries fields the schema
// does not define.
func requireNoUnknownFields(t *testing.T, m proto.Message) {
	t.Helper()
	var walk func(protoreflect.Message)
	walk = func(msg protoreflect.Message) {
		require.Empty(t, msg.GetUnknown(), "unknown fields in %s", msg.Descriptor().FullName())
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap():
			case fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
}
