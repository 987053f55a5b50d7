package readiness_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fleetrelay/fleetrelay/gateway/internal/readiness"
	"github.com/fleetrelay/fleetrelay/wal"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestNotReadyUntilOpened(t *testing.T) {
	tr := &readiness.Tracker{Window: 4 * time.Second}
	ready, why := tr.Check(t0)
	require.False(t, ready)
	require.Contains(t, why, "starting")
	tr.Opened()
	ready, why = tr.Check(t0)
	require.True(t, ready, why)
}

func TestBudgetRefusalLastsUntilAnAppendSucceeds(t *testing.T) {
	tr := &readiness.Tracker{Window: 4 * time.Second}
	tr.Opened()
	tr.Refused(fmt.Errorf("append: %w", wal.ErrFull), t0)
	ready, why := tr.Check(t0.Add(time.Second))
	require.False(t, ready)
	require.Contains(t, why, "disk budget")
	tr.Accepted()
	ready, _ = tr.Check(t0.Add(time.Second))
	require.True(t, ready)
}

func TestBudgetRefusalExpiresWithoutAnotherOne(t *testing.T) {
	tr := &readiness.Tracker{Window: 4 * time.Second}
	tr.Opened()
	tr.Refused(wal.ErrFull, t0)
	ready, _ := tr.Check(t0.Add(3 * time.Second))
	require.False(t, ready)
	tr.Refused(wal.ErrFull, t0.Add(3*time.Second))
	ready, _ = tr.Check(t0.Add(6 * time.Second))
	require.False(t, ready, "a later refusal restarts the window")
	ready, _ = tr.Check(t0.Add(7 * time.Second))
	require.True(t, ready)
}

func TestFailedPartitionLastsUntilRestart(t *testing.T) {
	tr := &readiness.Tracker{Window: time.Second}
	tr.Opened()
	tr.Refused(fmt.Errorf("wal: partition 0: fsync: %w", io.ErrShortWrite), t0)
	tr.Accepted() // another partition still takes records
	ready, why := tr.Check(t0.Add(time.Hour))
	require.False(t, ready)
	require.Contains(t, why, "restart")
	require.Contains(t, why, "partition 0: fsync")
}

func TestRefusalsThatSayNothingAboutTheWAL(t *testing.T) {
	tr := &readiness.Tracker{Window: time.Second}
	tr.Opened()
	for _, err := range []error{wal.ErrClosed, fmt.Errorf("x: %w", wal.ErrTooLarge), context.Canceled, context.DeadlineExceeded} {
		tr.Refused(err, t0)
		ready, why := tr.Check(t0)
		require.True(t, ready, "%v: %s", err, why)
	}
}

func TestDraining(t *testing.T) {
	tr := &readiness.Tracker{Window: time.Second}
	tr.Opened()
	tr.Draining()
	ready, why := tr.Check(t0)
	require.False(t, ready)
	require.Contains(t, why, "shutting down")
}

func TestHandler(t *testing.T) {
	tr := &readiness.Tracker{Window: time.Minute}
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		tr.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ready", nil))
		return rec.Code, rec.Body.String()
	}
	code, body := get()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.True(t, strings.HasPrefix(body, "not ready: starting"), body)
	tr.Opened()
	code, body = get()
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ready\n", body)
	tr.Refused(wal.ErrFull, time.Now())
	code, body = get()
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "disk budget")
}
