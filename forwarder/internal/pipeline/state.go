package pipeline

import (
	"sync"
	"time"
)

// Status is a snapshot of one pipeline's progress.
type Status struct {
	Cursor       uint64
	ReadIndex    uint64
	Delivered    uint64
	Retried      uint64
	DeadLettered uint64
	// PendingSince is the append time of the oldest entry not yet
	// committed, zero when the pipeline has caught up.
	PendingSince time.Time
	LastError    string
	LastErrorAt  time.Time
	// Stopped is the error that ended delivery, if any.
	Stopped string
}

// state is the pipeline's Status, shared by its reader and writer and read
// by status and metric collectors.
type state struct {
	mu sync.Mutex
	s  Status
}

func newState() *state { return &state{} }

func (st *state) update(f func(*Status)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f(&st.s)
}

func (st *state) snapshot() Status {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.s
}

func (st *state) setCursor(i uint64) {
	st.update(func(s *Status) { s.Cursor = i })
}

func (st *state) setRead(i uint64) { st.update(func(s *Status) { s.ReadIndex = i }) }

func (st *state) setPending(t time.Time) { st.update(func(s *Status) { s.PendingSince = t }) }

func (st *state) addDelivered(n int) { st.update(func(s *Status) { s.Delivered += uint64(n) }) }

func (st *state) addRetried(n int) { st.update(func(s *Status) { s.Retried += uint64(n) }) }

func (st *state) addDeadLettered(n int) {
	st.update(func(s *Status) { s.DeadLettered += uint64(n) })
}

func (st *state) setError(err error) {
	st.update(func(s *Status) { s.LastError, s.LastErrorAt = err.Error(), time.Now() })
}

func (st *state) setStopped(err error) {
	st.update(func(s *Status) {
		s.Stopped, s.LastError, s.LastErrorAt = err.Error(), err.Error(), time.Now()
	})
}
