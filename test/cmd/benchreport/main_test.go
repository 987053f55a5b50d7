package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/test/benchreport"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name              string
		args              []string
		runs, count, idle int
		sections          []string
		wantErr           bool
	}{
		{name: "full defaults", args: nil, runs: 3, count: 3, idle: 10000, sections: sections},
		{name: "quick defaults", args: []string{"-quick"}, runs: 1, count: 1, idle: 1000, sections: sections},
		{name: "explicit", args: []string{"-quick", "-runs", "5", "-idle", "2000", "-only", "ingest,wal"}, runs: 5, count: 1, idle: 2000,
			sections: []string{"ingest", "wal"}},
		{name: "unknown section", args: []string{"-only", "ingest,disk"}, wantErr: true},
		{name: "stray argument", args: []string{"now"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.runs, o.runs)
			require.Equal(t, tt.count, o.count)
			require.Equal(t, tt.idle, o.idle)
			require.Equal(t, tt.sections, o.selected())
		})
	}
}

func TestQuoteArgs(t *testing.T) {
	got := quoteArgs([]string{"test", "-bench", "A|B", "-run", "^$", "it's"})
	require.Equal(t, []string{"test", "-bench", "'A|B'", "-run", "'^$'", `'it'\''s'`}, got)
}

func TestMemTotal(t *testing.T) {
	require.Equal(t, "23.5 GiB", memTotal("24683620 kB"))
	require.Equal(t, "odd", memTotal("odd"))
}

func TestProcFigures(t *testing.T) {
	cpu, err := cpuSeconds(os.Getpid())
	require.NoError(t, err)
	require.GreaterOrEqual(t, cpu, 0.0)
	rss, hwm, err := memKiB(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, rss)
	require.GreaterOrEqual(t, hwm, rss)
	_, err = cpuSeconds(-1)
	require.Error(t, err)
}

func TestFreePorts(t *testing.T) {
	ports, err := freePorts(3)
	require.NoError(t, err)
	require.Len(t, ports, 3)
	require.NotEqual(t, ports[0], ports[1])
}

func TestRerender(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "results.json")
	rep := benchreport.Report{Quick: true, Commit: "abc", Idle: &benchreport.Idle{Target: 10, Connected: 10, BaselineKiB: 100, RSSKiB: 400}}
	data, err := json.Marshal(rep)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(results, data, 0o644))
	out := filepath.Join(dir, "BENCHMARKS.md")
	require.NoError(t, rerender(results, out))
	md, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Contains(t, string(md), "| commit | `abc` |")
	require.Contains(t, string(md), "**30.0 KiB**")
	require.Error(t, rerender(filepath.Join(dir, "missing.json"), out))
}
