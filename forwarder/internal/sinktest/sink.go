package sinktest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fleetrelay/fleetrelay/forwarder/datastore"
)

// Script decides the outcome of the call-th Write (counting from 1). It
// returns nil to accept the whole batch, a *datastore.PartialError to accept
// all but the listed records, or any other error to accept none.
type Script func(call int, batch []datastore.Record) error

// Sink is an in-memory datastore.Sink that records what it accepts.
type Sink struct {
	name   string
	script Script
	delay  time.Duration

	mu       sync.Mutex
	calls    int
	accepted []datastore.Record
	closed   bool
}

// New returns a sink named name whose writes follow script (nil accepts all).
func New(name string, script Script) *Sink { return &Sink{name: name, script: script} }

// WithDelay makes every Write take d (honouring ctx) before it answers.
func (s *Sink) WithDelay(d time.Duration) *Sink {
	s.delay = d
	return s
}

// Name implements datastore.Sink.
func (s *Sink) Name() string { return s.name }

// Write implements datastore.Sink.
func (s *Sink) Write(ctx context.Context, batch []datastore.Record) error {
	s.mu.Lock()
	s.calls++
	call := s.calls
	s.mu.Unlock()
	if err := wait(ctx, s.delay); err != nil {
		return err
	}
	var err error
	if s.script != nil {
		err = s.script(call, batch)
	}
	s.accept(batch, err)
	return err
}

func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sinktest: write: %w", ctx.Err())
	}
}

// accept records the records of batch that err says were accepted.
func (s *Sink) accept(batch []datastore.Record, err error) {
	failed := map[int]bool{}
	var pe *datastore.PartialError
	switch {
	case err == nil:
	case errors.As(err, &pe):
		for _, i := range pe.Failed {
			failed[i] = true
		}
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range batch {
		if !failed[i] {
			s.accepted = append(s.accepted, r)
		}
	}
}

// Close implements datastore.Sink.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Accepted returns the accepted records in acceptance order, duplicates
// included.
func (s *Sink) Accepted() []datastore.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]datastore.Record(nil), s.accepted...)
}

// Calls returns the number of Write calls so far.
func (s *Sink) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Closed reports whether Close was called.
func (s *Sink) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
