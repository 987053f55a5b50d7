package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/fleetrelay/fleetrelay/wal"
)

// makeLog writes n records per partition of a two-partition log and commits
// cursor "kafka" at 3 in every partition.
func makeLog(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	l, err := wal.Open(dir, wal.Options{Partitions: 2, SegmentSize: 256, NoSync: true})
	require.NoError(t, err)
	for i := range 2 * n {
		key := []byte("a")
		if i%2 == 1 {
			key = []byte("b")
		}
		_, err := l.Append(t.Context(), key, fmt.Appendf(nil, "record-%03d", i))
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	for p := range 2 {
		c, err := wal.OpenCursor(dir, "kafka", p)
		require.NoError(t, err)
		require.NoError(t, c.Commit(3))
	}
	return dir
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	dir := makeLog(t, 5)
	tests := []struct {
		name string
		args []string
	}{
		{name: "no_command"},
		{name: "unknown_command", args: []string{"frobnicate"}},
		{name: "missing_dir", args: []string{"info"}},
		{name: "bad_flag", args: []string{"dump", "-dir", dir, "-bogus"}},
		{name: "bad_since", args: []string{"dump", "-dir", dir, "-since", "yesterday"}},
		{name: "from_after_to", args: []string{"dump", "-dir", dir, "-from", "5", "-to", "2"}},
		{name: "partition_out_of_range", args: []string{"dump", "-dir", dir, "-partition", "7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(tc.args...)
			require.Equal(t, exitUsage, code, stderr)
			require.NotEmpty(t, stderr)
		})
	}
}

func TestInfo(t *testing.T) {
	dir := makeLog(t, 40)
	code, out, stderr := runCmd("info", "-dir", dir)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "2 partitions")
	require.Regexp(t, `(?m)^0\s+1\s+40\s+\d+\s+\d+$`, out)
	require.Regexp(t, `(?m)^kafka\s+1\s+3\s+37$`, out)

	code, _, stderr = runCmd("info", "-dir", filepath.Join(dir, "missing"))
	require.Equal(t, exitFail, code)
	require.Contains(t, stderr, "no such file")
}

func TestDump(t *testing.T) {
	dir := makeLog(t, 10)
	tests := []struct {
		name  string
		args  []string
		lines int
		first uint64
	}{
		{name: "all", args: nil, lines: 20, first: 1},
		{name: "one_partition_range", args: []string{"-partition", "1", "-from", "3", "-to", "5"}, lines: 3, first: 3},
		{name: "since_future", args: []string{"-since", "2999-01-01T00:00:00Z"}, lines: 0},
		{name: "until_future", args: []string{"-partition", "0", "-until", "2999-01-01T00:00:00Z"}, lines: 10, first: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCmd(append([]string{"dump", "-dir", dir}, tc.args...)...)
			require.Equal(t, exitOK, code, stderr)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if tc.lines == 0 {
				require.Empty(t, strings.TrimSpace(out))
				return
			}
			require.Len(t, lines, tc.lines)
			var first dumpLine
			require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
			require.Equal(t, tc.first, first.Index)
			require.True(t, strings.HasPrefix(string(first.Data), "record-"))
			require.Equal(t, len(first.Data), first.Size)
		})
	}
}

func TestVerify(t *testing.T) {
	dir := makeLog(t, 40)
	code, out, stderr := runCmd("verify", "-dir", dir)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "partition 0: ok, 40 entries")

	seg := filepath.Join(dir, "p001", fmt.Sprintf("%020d", 1))
	b, err := os.ReadFile(seg)
	require.NoError(t, err)
	b[len(b)/2] ^= 0x55
	require.NoError(t, os.WriteFile(seg, b, 0o644))
	code, out, _ = runCmd("verify", "-dir", dir)
	require.Equal(t, exitFail, code)
	require.Contains(t, out, "partition 1: DAMAGED")
	require.Contains(t, out, "partition 0: ok")
}

// TestSkip damages one frame, then: skip refuses while the consumer's
// delivery lock is held, moves the cursor past the entry once it is free,
// and refuses a second time (the cursor is no longer before it).
func TestSkip(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, wal.Options{SegmentSize: 256, NoSync: true})
	require.NoError(t, err)
	for i := 1; i <= 40; i++ {
		_, err := l.Append(t.Context(), nil, fmt.Appendf(nil, "record-%03d", i))
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	// Flip the last byte of entry 7's record.
	st, err := wal.StatPartition(dir, 0)
	require.NoError(t, err)
	require.Greater(t, st.Segments, 2)
	seg := findSegmentOf(t, dir, 7)
	data, err := os.ReadFile(seg)
	require.NoError(t, err)
	idx := bytes.Index(data, []byte("record-007"))
	require.Positive(t, idx)
	data[idx+len("record-007")-1] ^= 0x01
	require.NoError(t, os.WriteFile(seg, data, 0o644))
	c, err := wal.OpenCursor(dir, "kafka", 0)
	require.NoError(t, err)
	require.NoError(t, c.Commit(6))

	lockPath := filepath.Join(dir, "forwarder", "kafka", "p000.lock")
	require.NoError(t, os.MkdirAll(filepath.Dir(lockPath), 0o755))
	holder, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	require.NoError(t, err)
	require.NoError(t, unix.Flock(int(holder.Fd()), unix.LOCK_EX|unix.LOCK_NB))
	code, _, stderr := runCmd("skip", "-dir", dir, "-consumer", "kafka", "-partition", "0", "-index", "7")
	require.Equal(t, exitFail, code)
	require.Contains(t, stderr, "stop it first")
	require.NoError(t, holder.Close())

	code, stdout, stderr := runCmd("skip", "-dir", dir, "-consumer", "kafka", "-partition", "0", "-index", "7")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "skipped entry 7")
	require.Contains(t, stdout, "checksum mismatch")
	pos, err := wal.LoadCursor(dir, "kafka", 0)
	require.NoError(t, err)
	require.Equal(t, uint64(7), pos)

	code, _, stderr = runCmd("skip", "-dir", dir, "-consumer", "kafka", "-partition", "0", "-index", "7")
	require.Equal(t, exitFail, code)
	require.Contains(t, stderr, "cannot be skipped")
	code, _, _ = runCmd("skip", "-dir", dir, "-consumer", "kafka", "-partition", "0")
	require.Equal(t, exitUsage, code)
}

// findSegmentOf returns the segment file of partition 0 holding index.
func findSegmentOf(t *testing.T, dir string, index uint64) string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "p000", strings.Repeat("[0-9]", 20)))
	require.NoError(t, err)
	best := ""
	for _, n := range names {
		var start uint64
		_, err := fmt.Sscanf(filepath.Base(n), "%d", &start)
		require.NoError(t, err)
		if start <= index && n > best {
			best = n
		}
	}
	require.NotEmpty(t, best)
	return best
}
