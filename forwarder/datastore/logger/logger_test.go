package logger

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/protos/vehiclepb"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// TestLoggerMatchesReferenceLines writes every conformance vector and
// compares each line with CASE.json, ignoring time and metadata.receivedat
// (and, for connectivity, nothing else: the vector's record is fixed).
func TestLoggerMatchesReferenceLines(t *testing.T) {
	vectors := datastoretest.Vectors(t)
	file := filepath.Join(t.TempDir(), "records.log")
	s, err := New(&config.LoggerConfig{File: file}, datastore.Settings{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(t.Context()) })

	var batch []datastore.Record
	var want []map[string]any
	for _, v := range vectors {
		require.NotNil(t, v.LoggerLine, "%s: no logger line for the dispatched record", v.Name)
		batch = append(batch, v.Record)
		want = append(want, v.LoggerLine)
	}
	require.NoError(t, s.Write(t.Context(), batch))

	got := readLines(t, file)
	require.Len(t, got, len(want))
	for i, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			_, err := time.Parse(time.RFC3339Nano, got[i]["time"].(string))
			require.NoError(t, err)
			require.Equal(t, normalize(want[i]), normalize(got[i]))
		})
	}
}

func normalize(line map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range line {
		out[k] = v
	}
	delete(out, "time")
	md := map[string]any{}
	for k, v := range line["metadata"].(map[string]any) {
		md[k] = v
	}
	delete(md, "receivedat")
	out["metadata"] = md
	return out
}

func readLines(t *testing.T, file string) []map[string]any {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}

func TestLoggerVerbose(t *testing.T) {
	tests := []struct {
		name  string
		value *vehiclepb.Value
		vin   string
		want  any
	}{
		{"string", &vehiclepb.Value{Value: &vehiclepb.Value_StringValue{StringValue: "x"}}, "", map[string]any{"stringValue": "x"}},
		{"invalid", &vehiclepb.Value{Value: &vehiclepb.Value_Invalid{Invalid: true}}, "", map[string]any{"invalid": true}},
		{"shift_state", &vehiclepb.Value{Value: &vehiclepb.Value_ShiftStateValue{ShiftStateValue: vehiclepb.ShiftState_ShiftStateP}}, "", map[string]any{"shiftStateValue": "ShiftStateP"}},
		{"media_status", &vehiclepb.Value{Value: &vehiclepb.Value_MediaStatusValue{MediaStatusValue: 2}}, "", map[string]any{"mediaStatus": vehiclepb.MediaStatus(2).String()}},
		{"unknown_enum_number", &vehiclepb.Value{Value: &vehiclepb.Value_CarTypeValue{CarTypeValue: 99}}, "", map[string]any{"carType": "99"}},
		{"semi_tires", &vehiclepb.Value{Value: &vehiclepb.Value_TireLocationValue{TireLocationValue: &vehiclepb.TireLocation{SemiRearAxleRight_2: true}}}, "1XKTE1EA1KF000001", map[string]any{"tireLocation": map[string]any{
			"FrontLeft": false, "FrontRight": false, "SemiMiddleAxleLeft": false, "SemiMiddleAxleRight": false,
			"SemiMiddleAxleLeft2": false, "SemiMiddleAxleRight2": false, "SemiRearAxleLeft": false,
			"SemiRearAxleRight": false, "SemiRearAxleLeft2": false, "SemiRearAxleRight2": true,
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := renderVerbose(t, tc.value, tc.vin)
			require.Equal(t, tc.want, got)
		})
	}
}

func renderVerbose(t *testing.T, v *vehiclepb.Value, vin string) any {
	t.Helper()
	out := renderer{verbose: true}.payload(&vehiclepb.Payload{Vin: vin, Data: []*vehiclepb.Datum{{Key: vehiclepb.Field_Gear, Value: v}}}, vin)
	b, err := json.Marshal(out["Gear"])
	require.NoError(t, err)
	var back any
	require.NoError(t, json.Unmarshal(b, &back))
	return back
}

func TestLoggerUnknownTopicIsPermanent(t *testing.T) {
	file := filepath.Join(t.TempDir(), "records.log")
	s, err := New(&config.LoggerConfig{File: file}, datastore.Settings{})
	require.NoError(t, err)
	good := datastoretest.Synthetic(t, 1, 2, 1)
	payload, err := proto.Marshal(&vehiclepb.Payload{})
	require.NoError(t, err)
	bad := good[1]
	bad.WAL.Topic = "canlogs"
	bad.WAL.Payload = payload

	err = s.Write(t.Context(), []datastore.Record{good[0], bad})
	var partial *datastore.PartialError
	require.ErrorAs(t, err, &partial)
	require.Equal(t, []int{1}, partial.Failed)
	require.True(t, datastore.IsPermanent(partial.Errs[0]))
	require.Len(t, readLines(t, file), 1)

	require.NoError(t, s.Close(t.Context()))
	require.NoError(t, s.Close(t.Context()))
	require.ErrorIs(t, s.Write(t.Context(), good[:1]), datastore.ErrClosed)
}
