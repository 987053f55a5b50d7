package record_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/fleetrelay/fleetrelay/shared/record"
	"github.com/fleetrelay/fleetrelay/shared/testenv"
)

// certVIN is the VIN of the conformance client certificate.
const certVIN = "5YJ3E1EA1KF000001"

// dispatchCase is a conformance case whose record the reference dispatched.
type dispatchCase struct {
	name     string
	topic    string
	dispatch []byte // CASE.dispatch.pb
	decoded  []byte // CASE.decoded.json
}

// loadDispatchCases reads every case that has a CASE.dispatch.pb, with its
// topic taken from the dispatch metadata in CASE.result.json.
func loadDispatchCases(t *testing.T) []dispatchCase {
	t.Helper()
	dir := testenv.ConformanceDir(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.dispatch.pb"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	cases := make([]dispatchCase, 0, len(paths))
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".dispatch.pb")
		cases = append(cases, dispatchCase{
			name:     name,
			topic:    readTopic(t, filepath.Join(dir, name+".result.json")),
			dispatch: readFile(t, p),
			decoded:  readFile(t, filepath.Join(dir, name+".decoded.json")),
		})
	}
	return cases
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// readTopic returns dispatch_metadata.txtype of a CASE.result.json.
func readTopic(t *testing.T, path string) string {
	t.Helper()
	var res struct {
		Extras struct {
			Metadata map[string]string `json:"dispatch_metadata"`
		} `json:"upstream_extras"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, path), &res))
	topic := res.Extras.Metadata["txtype"]
	require.NotEmpty(t, topic, "no txtype in %s", path)
	return topic
}

func TestDecodedJSONMatchesReference(t *testing.T) {
	for _, c := range loadDispatchCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got, err := record.DecodedJSON(c.topic, c.dispatch)
			require.NoError(t, err)
			require.JSONEq(t, string(c.decoded), string(got))
		})
	}
}

func TestMarshalReproducesReferenceBytes(t *testing.T) {
	for _, c := range loadDispatchCases(t) {
		t.Run(c.name, func(t *testing.T) {
			msg, err := record.Unmarshal(c.topic, c.dispatch)
			require.NoError(t, err)
			got, err := record.Marshal(msg)
			require.NoError(t, err)
			require.Equal(t, c.dispatch, got)
		})
	}
}

// A dispatched payload is already transformed: transforming it again with
// the same VIN changes nothing, and another VIN replaces only the vin.
func TestNormalizeOfDispatchedPayload(t *testing.T) {
	for _, c := range loadDispatchCases(t) {
		t.Run(c.name, func(t *testing.T) {
			same, err := record.Normalize(c.topic, c.dispatch, certVIN)
			require.NoError(t, err)
			require.Equal(t, c.dispatch, same)

			other, err := record.Normalize(c.topic, c.dispatch, "OTHERVIN")
			require.NoError(t, err)
			want, err := record.Unmarshal(c.topic, c.dispatch)
			require.NoError(t, err)
			record.Transform(want, "OTHERVIN")
			got, err := record.Unmarshal(c.topic, other)
			require.NoError(t, err)
			require.True(t, proto.Equal(want, got))
			require.NotContains(t, string(other), certVIN)
		})
	}
}
