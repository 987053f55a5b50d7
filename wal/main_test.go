package wal

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Tests that need a second process re-execute the test binary with
// childModeEnv set; TestMain then runs the child's role instead of the tests.
const (
	childModeEnv = "FLEETRELAY_WAL_TEST_CHILD"
	childDirEnv  = "FLEETRELAY_WAL_TEST_DIR"
	childArgEnv  = "FLEETRELAY_WAL_TEST_ARG"
)

var crashCycles = flag.Int("wal.crash-cycles", 50, "kill-and-recover cycles of TestCrashRecovery")

func TestMain(m *testing.M) {
	if mode := os.Getenv(childModeEnv); mode != "" {
		os.Exit(runChild(mode, os.Getenv(childDirEnv), os.Getenv(childArgEnv)))
	}
	os.Exit(m.Run())
}

var childModes = map[string]func(dir, arg string) error{
	"append":        childAppend,
	"append-depth2": func(dir, arg string) error { return childAppendDepth(dir, arg, 2) },
	"tail":          childTail,
	"cursor":        childCursor,
	"lock":          childLock,
	"hold":          childHold,
}

func runChild(mode, dir, arg string) int {
	fn, ok := childModes[mode]
	if !ok {
		fmt.Fprintln(os.Stderr, "unknown child mode", mode)
		return 2
	}
	if err := fn(dir, arg); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// lineWriter writes whole lines to stdout, one write(2) each, so a killed
// child never leaves half of a reported line behind another.
type lineWriter struct{ mu sync.Mutex }

func (w *lineWriter) printf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = os.Stdout.WriteString(fmt.Sprintf(format, args...))
}

// child is a re-executed test binary and the lines it prints.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
}

func startChild(t testing.TB, mode, dir, arg string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childModeEnv+"="+mode, childDirEnv+"="+dir, childArgEnv+"="+arg)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, lines: make(chan string, 1<<16), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { c.kill() })
	return c
}

// kill sends SIGKILL and reaps the child; its complete lines stay readable.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
	_ = c.cmd.Wait()
}

// wait reaps a child that exits by itself and returns its exit error.
func (c *child) wait() error {
	<-c.done
	return c.cmd.Wait()
}

// firstLine waits for the child's first line.
func (c *child) firstLine(t testing.TB) string {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		require.True(t, ok, "child exited without output")
		return l
	case <-time.After(30 * time.Second):
		require.FailNow(t, "child printed nothing")
	}
	return ""
}

// childLock tries to open dir as a writer and reports the result.
func childLock(dir, _ string) error {
	l, err := Open(dir, Options{NoSync: true})
	if err == nil {
		_ = l.Close()
		fmt.Println("opened")
		return nil
	}
	if errors.Is(err, ErrLocked) {
		fmt.Println("locked:", err)
		return nil
	}
	return err
}

// childHold opens dir as a writer, reports it and waits to be killed.
func childHold(dir, _ string) error {
	_, err := Open(dir, Options{NoSync: true})
	if err != nil {
		return err
	}
	fmt.Println("holding", os.Getpid())
	time.Sleep(time.Hour)
	return nil
}

// childCursor commits ever higher positions and reports each commit.
func childCursor(dir, _ string) error {
	c, err := OpenCursor(dir, "sink", 0)
	if err != nil {
		return err
	}
	v, err := c.Load()
	if err != nil {
		return err
	}
	var w lineWriter
	for {
		v++
		if err := c.Commit(v); err != nil {
			return err
		}
		w.printf("%d\n", v)
	}
}

func childTail(dir, arg string) error {
	count, err := strconv.ParseUint(arg, 10, 64)
	if err != nil {
		return err
	}
	cur, err := OpenCursor(dir, "tail", 0)
	if err != nil {
		return err
	}
	after, err := cur.Load()
	if err != nil {
		return err
	}
	tl, err := OpenTailer(dir, 0, after, TailerOptions{})
	if err != nil {
		return err
	}
	defer func() { _ = tl.Close() }()
	return tailInto(tl, cur, count)
}

// tailInto prints "<index> <received unix-nanos> <appended unix-nanos>
// <data>" for each entry until index count (forever when count is 0),
// committing the cursor every few entries so retention runs behind it.
func tailInto(tl *Tailer, cur *Cursor, count uint64) error {
	var out lineWriter
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for {
		e, err := tl.Next(ctx)
		if err != nil {
			return err
		}
		out.printf("%d %d %d %s\n", e.Index, time.Now().UnixNano(), e.AppendedAt.UnixNano(), e.Data)
		if e.Index%16 == 0 || e.Index == count {
			if err := cur.Commit(e.Index); err != nil {
				return err
			}
		}
		if e.Index == count {
			return nil
		}
	}
}

func pidSelf() int { return os.Getpid() }
