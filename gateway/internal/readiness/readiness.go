// Package readiness tracks whether the gateway can take records: the WAL
// is open, the server is not draining, and the WAL is not refusing
// appends. It backs the status server's GET /ready, so that a load
// balancer stops sending vehicles to a gateway that could not store their
// records.
//
// A refusal for lack of disk budget is transient: the gateway is not ready
// from the refusal until an append succeeds again, or until Window passes
// without another refusal (records arrive from connected vehicles every
// wal_retry_delay while the budget is exhausted, so a quiet Window means no
// vehicle is being refused; the next refusal makes the gateway unready
// again). Any other refusal means a WAL partition failed a write or an
// fsync; such a partition takes nothing until the gateway restarts and
// repairs it, so that state lasts until the process exits.
package readiness

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetrelay/fleetrelay/wal"
)

// Tracker holds the gateway's readiness. The zero value is not ready (the
// WAL is not open yet); it is safe for concurrent use. Accepted is cheap
// enough to call once per record.
type Tracker struct {
	// Window is how long a budget refusal keeps the gateway unready when
	// no append succeeds and no other refusal follows.
	Window time.Duration

	open      atomic.Bool
	draining  atomic.Bool
	refusedAt atomic.Int64 // unix ns of a budget refusal not followed by a durable append; 0 = none

	mu     sync.Mutex // guards failed
	failed string     // why a partition failed; "" while none did
}

// Opened marks the WAL open and the server accepting vehicles.
func (t *Tracker) Opened() { t.open.Store(true) }

// Draining marks the start of the shutdown drain: not ready from now on.
func (t *Tracker) Draining() { t.draining.Store(true) }

// Accepted records a durable append: a budget refusal is over.
func (t *Tracker) Accepted() {
	if t.refusedAt.Load() != 0 {
		t.refusedAt.Store(0)
	}
}

// Refused records an append the WAL refused with err. Errors that say
// nothing about the WAL's state (it is closing, the record is too large,
// the caller gave up) are ignored.
func (t *Tracker) Refused(err error, now time.Time) {
	switch {
	case errors.Is(err, wal.ErrFull):
		t.refusedAt.Store(now.UnixNano())
	case errors.Is(err, wal.ErrClosed), errors.Is(err, wal.ErrTooLarge), isContextError(err):
	default:
		t.mu.Lock()
		if t.failed == "" {
			t.failed = err.Error()
		}
		t.mu.Unlock()
	}
}

// Check reports whether the gateway is ready at now and, if not, why.
func (t *Tracker) Check(now time.Time) (ready bool, why string) {
	if !t.open.Load() {
		return false, "starting: the WAL is not open yet"
	}
	if t.draining.Load() {
		return false, "shutting down"
	}
	t.mu.Lock()
	failed := t.failed
	t.mu.Unlock()
	if failed != "" {
		return false, "the WAL failed a write; restart the gateway to repair it: " + failed
	}
	if at := t.refusedAt.Load(); at != 0 && now.Sub(time.Unix(0, at)) < t.Window {
		return false, "the WAL refuses records: disk budget exhausted (wal.disk_budget_bytes)"
	}
	return true, ""
}

// Handler answers 200 "ready" or 503 "not ready: <why>".
func (t *Tracker) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		ready, why := t.Check(time.Now())
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + why + "\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
