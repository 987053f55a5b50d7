package logger

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/datastore/datastoretest"
	"github.com/fleetrelay/fleetrelay/shared/config"
)

// TestLoggerEndsATornLine opens a file whose last line a killed process
// left incomplete: the next line must start on a line of its own.
func TestLoggerEndsATornLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "records.log")
	torn := `{"activity":true,"context":"fleet-tele`
	require.NoError(t, os.WriteFile(file, []byte("{\"vin\":\"A\"}\n"+torn), 0o640))

	s, err := New(&config.LoggerConfig{File: file}, datastore.Settings{})
	require.NoError(t, err)
	recs := datastoretest.Synthetic(t, 1, 3, 2)
	require.NoError(t, s.Write(t.Context(), recs))
	require.NoError(t, s.Close(t.Context()))

	b, err := os.ReadFile(file)
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	require.Len(t, lines, 2+len(recs))
	require.Equal(t, torn, string(lines[1]), "the fragment stays a line of its own")
	for i, l := range lines[2:] {
		var m map[string]any
		require.NoError(t, json.Unmarshal(l, &m), "line %d after the fragment: %s", i, l)
		require.Equal(t, recs[i].WAL.GetVin(), m["vin"])
	}

	// A file that ends with a complete line gets nothing added.
	before, err := os.ReadFile(file)
	require.NoError(t, err)
	s, err = New(&config.LoggerConfig{File: file}, datastore.Settings{})
	require.NoError(t, err)
	require.NoError(t, s.Close(t.Context()))
	after, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, before, after)
}

// writeRecorder keeps every Write call it receives.
type writeRecorder struct{ writes [][]byte }

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

// TestLoggerWritesWholeLines checks that no line is split over two writes
// to the file, also when a batch is many times the buffer, so that
// processes appending to one file cannot interleave inside a line.
func TestLoggerWritesWholeLines(t *testing.T) {
	s, err := New(&config.LoggerConfig{File: filepath.Join(t.TempDir(), "records.log")}, datastore.Settings{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	rec := &writeRecorder{}
	s.out = bufio.NewWriterSize(rec, 4096)
	s.file = nil // the recorder is not a file: nothing to fsync

	recs := datastoretest.Synthetic(t, 1, 500, 7)
	require.NoError(t, s.Write(t.Context(), recs))
	require.Greater(t, len(rec.writes), 10, "a batch of many buffers' worth is written in several writes")
	lines := 0
	for i, w := range rec.writes {
		require.Truef(t, bytes.HasSuffix(w, []byte("\n")), "write %d of %d ends inside a line", i, len(rec.writes))
		lines += bytes.Count(w, []byte("\n"))
	}
	require.Equal(t, len(recs), lines)
}
