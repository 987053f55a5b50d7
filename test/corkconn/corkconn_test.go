package corkconn_test

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/test/corkconn"
)

// recorder is a net.Conn that records each Write call.
type recorder struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
	fail   error
	reads  int
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return 0, r.fail
	}
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

func (r *recorder) Read([]byte) (int, error) {
	r.reads++
	return 0, nil
}

func (r *recorder) Close() error { return nil }

func TestCorking(t *testing.T) {
	big := bytes.Repeat([]byte{'x'}, 20<<10)
	tests := []struct {
		name string
		run  func(*corkconn.Conn) error
		want []string
	}{
		{name: "uncorked_passes_through", run: func(c *corkconn.Conn) error {
			return writeAll(c, "a", "b")
		}, want: []string{"a", "b"}},
		{name: "corked_coalesces", run: func(c *corkconn.Conn) error {
			c.Cork()
			return errors.Join(writeAll(c, "a", "b", "c"), c.Uncork(), writeAll(c, "d"))
		}, want: []string{"abc", "d"}},
		{name: "close_flushes", run: func(c *corkconn.Conn) error {
			c.Cork()
			return errors.Join(writeAll(c, "a"), c.Close())
		}, want: []string{"a"}},
		{name: "full_buffer_flushes", run: func(c *corkconn.Conn) error {
			c.Cork()
			return errors.Join(writeAll(c, "a", string(big), "b"), c.Flush())
		}, want: []string{"a", string(big), "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			require.NoError(t, tc.run(corkconn.New(r)))
			var got []string
			for _, w := range r.writes {
				got = append(got, string(w))
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func writeAll(c *corkconn.Conn, parts ...string) error {
	for _, p := range parts {
		if _, err := c.Write([]byte(p)); err != nil {
			return err
		}
	}
	return nil
}

func TestReadFlush(t *testing.T) {
	r := &recorder{}
	c := corkconn.NewReadFlush(r)
	require.NoError(t, writeAll(c, "a", "b"))
	require.Empty(t, r.writes)
	_, err := c.Read(make([]byte, 1))
	require.NoError(t, err)
	require.Equal(t, [][]byte{[]byte("ab")}, r.writes)
	require.NoError(t, c.Uncork())
	require.NoError(t, writeAll(c, "c"))
	require.Len(t, r.writes, 1, "read-flush mode stays corked")
}

func TestWriteErrorSticks(t *testing.T) {
	boom := errors.New("boom")
	r := &recorder{fail: boom}
	c := corkconn.New(r)
	c.Cork()
	require.NoError(t, writeAll(c, "a"))
	require.ErrorIs(t, c.Flush(), boom)
	_, err := c.Write([]byte("b"))
	require.ErrorIs(t, err, boom)
}
