package session

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// recordingConn records each Write call and the write deadlines.
type recordingConn struct {
	net.Conn
	mu        sync.Mutex
	writes    [][]byte
	deadlines []time.Time
	fail      error
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (c *recordingConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadlines = append(c.deadlines, t)
	return nil
}

func TestBatchConnGathersWhileHeld(t *testing.T) {
	rc := &recordingConn{}
	c := &batchConn{Conn: rc}
	_, err := c.Write([]byte("ping"))
	require.NoError(t, err)
	require.Len(t, rc.writes, 1, "not held: straight through")

	c.hold()
	d1, d2 := time.Unix(100, 0), time.Unix(200, 0)
	for i, f := range []string{"a1", "a2", "a3"} {
		require.NoError(t, c.SetWriteDeadline([]time.Time{d1, d2, d2}[i]))
		_, err := c.Write([]byte(f))
		require.NoError(t, err)
	}
	require.Len(t, rc.writes, 1, "held: nothing written yet")
	require.NoError(t, c.release())
	require.Equal(t, [][]byte{[]byte("ping"), []byte("a1a2a3")}, rc.writes)
	require.Equal(t, []time.Time{d2}, rc.deadlines, "one deadline update per batch, the last one set")
	require.Nil(t, c.buf, "the buffer goes back to the pool")
}

func TestBatchConnFlushesAtTheLimit(t *testing.T) {
	rc := &recordingConn{}
	c := &batchConn{Conn: rc}
	c.hold()
	big := make([]byte, batchLimit-10)
	_, err := c.Write(big)
	require.NoError(t, err)
	_, err = c.Write(make([]byte, 20))
	require.NoError(t, err)
	require.Len(t, rc.writes, 1, "the first frame left when the second would not fit")
	huge := make([]byte, batchLimit+1)
	_, err = c.Write(huge)
	require.NoError(t, err)
	require.Len(t, rc.writes, 3, "a frame over the limit is written on its own, after the gathered one")
	require.Len(t, rc.writes[2], batchLimit+1)
	require.NoError(t, c.release())
	require.Len(t, rc.writes, 3)
}

func TestBatchConnReportsAFailedWrite(t *testing.T) {
	boom := errors.New("broken pipe")
	rc := &recordingConn{fail: boom}
	c := &batchConn{Conn: rc}
	c.hold()
	_, err := c.Write([]byte("a1"))
	require.NoError(t, err, "gathered, not written yet")
	require.ErrorIs(t, c.release(), boom)
	_, err = c.Write([]byte("a2"))
	require.ErrorIs(t, err, boom, "every later write fails")
	c.hold()
	require.ErrorIs(t, c.release(), boom, "a batch after a failed write never reached the peer")
}
