package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
	"github.com/fleetrelay/fleetrelay/forwarder/internal/sinktest"
)

func TestUsageErrors(t *testing.T) {
	f := newFixture(t, 2, nil)
	f.openWAL(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown_command", args: []string{"frobnicate"}, want: "unknown command"},
		{name: "missing_config", args: []string{"status", "-config", f.dir + "/nope.json"}, want: "nope.json"},
		{name: "replay_without_sink", args: []string{"replay", "-config", f.config}, want: "-sink is required"},
		{name: "sink_not_routed", args: []string{"replay", "-config", f.config, "-sink", "kafka"}, want: "no topic is routed"},
		{name: "from_without_partition", args: []string{"replay", "-config", f.config, "-sink", "logger", "-from", "3"}, want: "give -partition"},
		{name: "from_and_since", args: []string{"replay", "-config", f.config, "-sink", "logger", "-partition", "0", "-from", "1", "-since", "2026-01-01T00:00:00Z"}, want: "not both"},
		{name: "bad_time", args: []string{"replay", "-config", f.config, "-sink", "logger", "-since", "yesterday"}, want: "RFC 3339"},
		{name: "partition_out_of_range", args: []string{"deadletter", "list", "-config", f.config, "-sink", "logger", "-partition", "9"}, want: "has 2 partitions"},
		{name: "deadletter_bad_action", args: []string{"deadletter", "purge"}, want: "unknown action"},
		{name: "run_unrouted_sink", args: []string{"-config", f.config, "-sinks", "mqtt"}, want: `sink "mqtt"`},
		{name: "unknown_flag", args: []string{"status", "-bogus"}, want: "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t.Context(), (&memSinks{}).factory, tt.args...)
			require.Equal(t, exitUsage, code, stderr)
			require.Contains(t, stderr, tt.want)
		})
	}
}

// forward runs `forwarder run` in-process until the sink's cursors reach
// the end of the WAL, then stops it and returns its exit code.
func forward(t *testing.T, f *fixture, sinks *memSinks, sink string) int {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var code int
	var stderr string
	var wg sync.WaitGroup
	wg.Go(func() { code, _, stderr = runCmd(ctx, sinks.factory, "-config", f.config, "-sinks", sink) })
	waitCommitted(t, f, sink, f.lastIndexes(t))
	cancel()
	wg.Wait()
	require.Equal(t, exitOK, code, stderr)
	return code
}

func statusReports(t *testing.T, f *fixture, wantCode int) []partitionReport {
	t.Helper()
	code, out, stderr := runCmd(t.Context(), nil, "status", "-config", f.config, "-sink", "logger", "-json")
	require.Equal(t, wantCode, code, stderr)
	var reports []partitionReport
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r partitionReport
		require.NoError(t, dec.Decode(&r))
		reports = append(reports, r)
	}
	return reports
}

func TestStatusShowsLag(t *testing.T) {
	f := newFixture(t, 2, nil)
	l := f.openWAL(t)
	appendN(t.Context(), t, l, 0, 100)

	var lag uint64
	for _, r := range statusReports(t, f, exitOK) {
		require.False(t, r.Running)
		require.Zero(t, r.Cursor)
		require.Positive(t, r.LagBytes)
		require.Positive(t, r.OldestAgeMs)
		lag += r.LagRecords
	}
	require.Equal(t, uint64(100), lag)

	forward(t, f, &memSinks{script: sinktest.FailFirst(2, sinktest.ErrUnavailable)}, "logger")
	reports := statusReports(t, f, exitOK)
	require.Len(t, reports, 2)
	for _, r := range reports {
		require.Zero(t, r.LagRecords)
		require.Equal(t, r.LastIndex, r.Cursor)
		require.NotEmpty(t, r.Owner, "the forwarder wrote its status file")
	}
	code, table, _ := runCmd(t.Context(), nil, "status", "-config", f.config)
	require.Equal(t, exitOK, code)
	require.Contains(t, table, "LAG_BYTES")
	require.Contains(t, table, "kinesis")
}

func TestReplaySelectsRange(t *testing.T) {
	f := newFixture(t, 1, nil)
	l := f.openWAL(t)
	appendN(t.Context(), t, l, 0, 300)
	tests := []struct {
		name  string
		args  []string
		match func(i int, r datastore.Record) bool
	}{
		{name: "index_range", args: []string{"-partition", "0", "-from", "5", "-to", "40"},
			match: func(i int, _ datastore.Record) bool { return i+1 >= 5 && i+1 <= 40 }},
		{name: "vin_and_topic", args: []string{"-vin", "VIN0003,VIN0004", "-topic", "V"},
			match: func(_ int, r datastore.Record) bool {
				return (r.WAL.GetVin() == "VIN0003" || r.WAL.GetVin() == "VIN0004") && r.WAL.GetTopic() == "V"
			}},
		{name: "time_window_empty", args: []string{"-since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
			match: func(int, datastore.Record) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sinks := &memSinks{}
			code, out, stderr := runCmd(t.Context(), sinks.factory, append([]string{"replay", "-config", f.config, "-sink", "logger"}, tt.args...)...)
			require.Equal(t, exitOK, code, stderr)
			require.Contains(t, out, "replay sink=logger")
			var want []uint64
			for i := range 300 {
				if tt.match(i, datastore.Record{WAL: testRecord(i, 37)}) {
					want = append(want, uint64(i+1))
				}
			}
			var got []uint64
			for _, r := range sinks.get("logger").Accepted() {
				got = append(got, r.Index)
			}
			require.Equal(t, want, got)
			require.Zero(t, f.committed(t, "logger"), "replay does not move the cursor")
		})
	}
}

func TestReplayReportsRejected(t *testing.T) {
	f := newFixture(t, 1, nil)
	appendN(t.Context(), t, f.openWAL(t), 0, 20)
	sinks := &memSinks{script: sinktest.FailFirst(1, datastore.Permanent(errors.New("too large")))}
	code, out, _ := runCmd(t.Context(), sinks.factory, "replay", "-config", f.config, "-sink", "logger")
	require.Equal(t, exitFailure, code)
	require.Contains(t, out, "rejected=20")
	require.Contains(t, out, "too large")
}

func TestDeadLetterListAndReplay(t *testing.T) {
	f := newFixture(t, 2, nil)
	appendN(t.Context(), t, f.openWAL(t), 0, 200)
	rejectVIN3 := sinktest.RejectIf(func(_ int, r datastore.Record) error {
		if r.WAL.GetVin() == "VIN0003" {
			return datastore.Permanent(errors.New("schema mismatch"))
		}
		return nil
	})
	forward(t, f, &memSinks{script: rejectVIN3}, "logger")
	dead := 0
	for i := range 200 {
		if i%37 == 3 {
			dead++
		}
	}
	reports := statusReports(t, f, exitOK)
	require.Equal(t, uint64(dead), reports[0].DeadLetters+reports[1].DeadLetters)

	code, list, _ := runCmd(t.Context(), nil, "deadletter", "list", "-config", f.config, "-sink", "logger")
	require.Equal(t, exitOK, code)
	require.Equal(t, dead, strings.Count(list, "VIN0003"))
	require.Contains(t, list, "schema mismatch")

	code, _, _ = runCmd(t.Context(), (&memSinks{script: rejectVIN3}).factory, "deadletter", "replay", "-config", f.config, "-sink", "logger")
	require.Equal(t, exitFailure, code, "rejected again")

	code, list, _ = runCmd(t.Context(), nil, "deadletter", "list", "-config", f.config, "-sink", "logger", "-all")
	require.Equal(t, exitOK, code)
	require.Equal(t, dead, strings.Count(list, "true"), "every letter was attempted")

	// A letter rejected again stays attempted; new letters replay to a healthy sink.
	forwardMore(t, f, 200, rejectVIN3)
	healthy := &memSinks{}
	code, out, stderr := runCmd(t.Context(), healthy.factory, "deadletter", "replay", "-config", f.config, "-sink", "logger")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "delivered=")
	for _, r := range healthy.get("logger").Accepted() {
		require.Equal(t, "VIN0003", r.WAL.GetVin())
		require.GreaterOrEqual(t, r.Index, uint64(1))
	}
	require.NotEmpty(t, healthy.get("logger").Accepted())

	code, out, _ = runCmd(t.Context(), (&memSinks{}).factory, "deadletter", "replay", "-config", f.config, "-sink", "logger")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "delivered=0", "nothing left to replay")
}

// forwardMore appends 100 records after from and forwards them with script.
func forwardMore(t *testing.T, f *fixture, from int, script sinktest.Script) {
	t.Helper()
	l := f.openWAL(t)
	appendN(t.Context(), t, l, from, 100)
	forward(t, f, &memSinks{script: script}, "logger")
}
